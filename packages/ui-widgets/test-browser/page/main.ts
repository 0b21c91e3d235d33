/**
 * The harness page of the widgets' browser tests: every element registered (the package's index),
 * one {@link FakeClient} for them, the events they emit in a log, and gamepads the test holds.
 * A test mounts the elements it needs with `harness.mount` and drives them through the DOM.
 */
import { TelekitWidget } from '../../src/index.js';
import { FakeClient } from './fake-client.js';

/** A gamepad as `navigator.getGamepads()` returns it, as far as the teleop pad reads one. */
interface FakePad {
  axes: number[];
  buttons: { pressed: boolean }[];
}

export interface Harness {
  readonly client: FakeClient;
  /** Every `telekit-*` event that reached the document, in order. */
  readonly events: { type: string; detail: unknown }[];
  /** What `navigator.getGamepads()` returns. */
  readonly pads: (FakePad | null)[];
  /** How many times the page read the gamepads (the teleop pad polls them at its rate). */
  padReads: number;
  /**
   * Adds `<tag>` with `attributes` to the page and, unless `bind` is false, gives it the fake client
   * (widgets only: the theme toggle takes none).
   */
  mount(tag: string, attributes?: Record<string, string>, options?: { bind?: boolean }): HTMLElement;
  /** Connects a gamepad with `buttons` buttons at rest, and tells the page. */
  connectPad(buttons?: number): FakePad;
}

const client = new FakeClient();
const events: Harness['events'] = [];
const pads: Harness['pads'] = [];
for (const type of [
  'telekit-estop',
  'telekit-twist',
  'telekit-lease',
  'telekit-sample',
  'telekit-theme',
  'telekit-recorder',
  'telekit-video-state',
  'telekit-view-state',
])
  document.addEventListener(type, (e) => events.push({ type, detail: (e as CustomEvent).detail }));
Object.defineProperty(navigator, 'getGamepads', {
  value: () => {
    window.harness.padReads++;
    return pads;
  },
  configurable: true,
});

window.harness = {
  client,
  events,
  pads,
  padReads: 0,
  mount(tag, attributes = {}, { bind = true } = {}) {
    const el = document.createElement(tag);
    for (const [name, value] of Object.entries(attributes)) el.setAttribute(name, value);
    document.getElementById('widgets')!.append(el);
    if (bind && el instanceof TelekitWidget) el.client = client.asClient();
    return el;
  },
  connectPad(buttons = 16) {
    const pad = { axes: [0, 0, 0, 0], buttons: Array.from({ length: buttons }, () => ({ pressed: false })) };
    pads.push(pad);
    window.dispatchEvent(new Event('gamepadconnected'));
    return pad;
  },
};

declare global {
  interface Window {
    harness: Harness;
  }
}
