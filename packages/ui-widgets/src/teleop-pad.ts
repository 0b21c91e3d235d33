import { headerSequence, systemClock, Topics, type Twist } from '@telekit/core';
import type { GatewayClient } from '@telekit/gateway/client';
import { css, html, LitElement } from 'lit';
import { defineElement, TelekitWidget } from './base.js';
import { type DriveCommand, type InputState, TeleopInput } from './teleop-input.js';
import { theme } from './theme.js';

/** Whether a key event goes to something that takes text (its keys are not the pad's). */
const typing = (e: Event) => {
  const target = e.composedPath()[0];
  if (!(target instanceof HTMLElement)) return false;
  if (
    target.isContentEditable ||
    target instanceof HTMLTextAreaElement ||
    target instanceof HTMLSelectElement
  )
    return true;
  return (
    target instanceof HTMLInputElement &&
    !['button', 'checkbox', 'radio', 'range', 'submit'].includes(target.type)
  );
};

/** The page's clock for an event's stamp (`timeStamp` counts from the page's time origin). */
const eventTime = (e: Event) => performance.timeOrigin + e.timeStamp;

/**
 * `<telekit-teleop-pad>`: drives the robot. Keyboard (WASD and arrows) while the pad has focus — or
 * anywhere on the page with `global` —, a gamepad (left stick, only while the deadman button is
 * held), and a touch joystick. The logic is {@link TeleopInput} (headless, tested on its own); this
 * element feeds it the events and draws it.
 *
 * A command leaves at the input event itself, stamped with the event's time (so the gateway's
 * latency budget sees how long the page took to send it); while anything is held it repeats at a
 * steady `rate`, each repeat stamped with the moment it was due; releasing everything sends one
 * zero command. The gateway's deadman stops the robot anyway if commands stop arriving. Focus
 * leaving the page releases every key. Nothing here runs on the animation frame.
 *
 * It sends only while this client holds control; otherwise it says so (and the stick is
 * `aria-disabled`). The stick is focusable (`role="application"`, named "Drive the robot"), sized
 * for a thumb: `--telekit-stick-size`, 160 px, 180 px on a touch screen.
 *
 * Attributes: `max-linear` (m/s, default 0.5), `max-angular` (rad/s, default 1.5), `rate` (Hz,
 * default 20), `deadman-button` (gamepad button index, default 4: the left shoulder), `global`.
 * Events: `telekit-twist` (`detail`: the command sent).
 */
export class TelekitTeleopPad extends TelekitWidget {
  static override properties = {
    ...TelekitWidget.properties,
    maxLinear: { type: Number, attribute: 'max-linear' },
    maxAngular: { type: Number, attribute: 'max-angular' },
    rate: { type: Number },
    deadmanButton: { type: Number, attribute: 'deadman-button' },
    global: { type: Boolean },
    _active: { state: true },
    _control: { state: true },
    _knob: { state: true },
  };
  declare maxLinear: number;
  declare maxAngular: number;
  declare rate: number;
  declare deadmanButton: number;
  declare global: boolean;
  declare _active: boolean;
  declare _control: boolean;
  declare _knob: [number, number];
  #input: TeleopInput | undefined;
  #header = headerSequence('teleop-pad', () => systemClock.now());

  static override styles = [
    theme,
    css`
      :host {
        display: inline-flex;
        flex-direction: column;
        align-items: center;
        gap: 0.5em;
        padding: 0.75em;
        border-radius: var(--_radius);
        background: var(--_bg);
        user-select: none;
        /* The page still scrolls from around the stick; the stick itself takes every touch. */
        touch-action: manipulation;
      }
      .stick {
        --size: var(--telekit-stick-size, 160px);
        width: var(--size);
        height: var(--size);
        border-radius: 50%;
        background: color-mix(in srgb, var(--_fg) 6%, var(--_bg));
        border: 2px solid var(--_border);
        position: relative;
        touch-action: none;
        cursor: grab;
      }
      @media (pointer: coarse) {
        .stick {
          --size: var(--telekit-stick-size, 180px);
        }
      }
      .stick[aria-disabled='true'] {
        cursor: not-allowed;
      }
      .stick::before,
      .stick::after {
        content: '';
        position: absolute;
        background: var(--_border);
      }
      .stick::before {
        left: 50%;
        top: 12%;
        bottom: 12%;
        width: 1px;
      }
      .stick::after {
        top: 50%;
        left: 12%;
        right: 12%;
        height: 1px;
      }
      .knob {
        --k: calc(var(--size) * 0.4);
        position: absolute;
        z-index: 1;
        width: var(--k);
        height: var(--k);
        border-radius: 50%;
        background: var(--_accent);
        left: calc(50% - var(--k) / 2 + var(--x) * (var(--size) - var(--k)) / 2);
        top: calc(50% - var(--k) / 2 - var(--y) * (var(--size) - var(--k)) / 2);
      }
      .active .knob {
        box-shadow: 0 0 0 5px color-mix(in srgb, var(--_accent) 40%, transparent);
      }
      .stick[aria-disabled='true'] .knob {
        background: color-mix(in srgb, var(--_accent) 45%, var(--_bg));
      }
      .message {
        text-align: center;
        max-width: calc(var(--telekit-stick-size, 180px) + 4em);
      }
    `,
  ];

  constructor() {
    super();
    this.maxLinear = 0.5;
    this.maxAngular = 1.5;
    this.rate = 20;
    this.deadmanButton = 4;
    this.global = false;
    this._active = false;
    this._control = false;
    this._knob = [0, 0];
  }

  /** Focusing the pad (or clicking around the stick) focuses its stick: the keys drive from there. */
  static override shadowRootOptions: ShadowRootInit = {
    ...LitElement.shadowRootOptions,
    delegatesFocus: true,
  };

  /** The input's logic, made afresh when an attribute it depends on changes. */
  #makeInput(): TeleopInput {
    const input = new TeleopInput({
      now: () => systemClock.now(),
      maxLinear: this.maxLinear,
      maxAngular: this.maxAngular,
      rateHz: this.rate,
      deadmanButton: this.deadmanButton,
      gamepads: () => (typeof navigator !== 'undefined' && navigator.getGamepads?.()) || [],
      send: (command, inputAt) => this.#send(command, inputAt),
      changed: (state: InputState) => {
        this._active = state.held;
      },
    });
    input.enabled = this.client?.holdsControl ?? false;
    return input;
  }

  override connectedCallback(): void {
    super.connectedCallback();
    this.#input ??= this.#makeInput();
    this.addEventListener('keydown', this.#down);
    this.addEventListener('keyup', this.#up);
    window.addEventListener('keydown', this.#globalDown);
    window.addEventListener('keyup', this.#globalUp);
    window.addEventListener('blur', this.#releaseAll);
    window.addEventListener('gamepadconnected', this.#poll);
    document.addEventListener('visibilitychange', this.#releaseAll);
    this.#input.poll();
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    this.removeEventListener('keydown', this.#down);
    this.removeEventListener('keyup', this.#up);
    window.removeEventListener('keydown', this.#globalDown);
    window.removeEventListener('keyup', this.#globalUp);
    window.removeEventListener('blur', this.#releaseAll);
    window.removeEventListener('gamepadconnected', this.#poll);
    document.removeEventListener('visibilitychange', this.#releaseAll);
    // Let go (one zero command if it was driving), then stop.
    this.#input?.releaseAll(systemClock.now());
    this.#input?.close();
    this.#input = undefined;
  }

  protected override updated(changed: Map<PropertyKey, unknown>): void {
    super.updated(changed);
    const tuned = ['maxLinear', 'maxAngular', 'rate', 'deadmanButton'].some((k) => changed.has(k));
    if (tuned && this.#input && this.isConnected) {
      this.#input.releaseAll(systemClock.now());
      this.#input.close();
      this.#input = this.#makeInput();
    }
  }

  protected override attach(client: GatewayClient) {
    return [
      client.lease$.subscribe(() => {
        this._control = client.holdsControl;
        if (this.#input) this.#input.enabled = client.holdsControl;
      }),
    ];
  }

  protected override detach(): void {
    if (this.#input) this.#input.enabled = false;
  }

  #send(command: DriveCommand, inputAt: number): void {
    const client = this.client;
    if (!client?.holdsControl) return;
    const twist: Twist = {
      header: this.#header(),
      linear: { x: command.linear, y: 0, z: 0 },
      angular: { x: 0, y: 0, z: command.angular },
    };
    try {
      client.publish(Topics.twist, twist, { inputAt });
    } catch {
      // The client is closed: nothing to drive.
      return;
    }
    this.emit('telekit-twist', twist);
  }

  #down = (e: KeyboardEvent) => {
    if (this.#input?.keyDown(e.key, eventTime(e))) {
      e.preventDefault();
      e.stopPropagation();
    }
  };
  #up = (e: KeyboardEvent) => this.#input?.keyUp(e.key, eventTime(e));
  #globalDown = (e: KeyboardEvent) => {
    // Typing into a field elsewhere on the page (a goal, a name) is not driving.
    if (this.global && !e.composedPath().includes(this) && !typing(e)) this.#down(e);
  };
  #globalUp = (e: KeyboardEvent) => this.#up(e);
  #releaseAll = () => {
    this._knob = [0, 0];
    this.#input?.releaseAll(systemClock.now());
  };
  #poll = () => this.#input?.poll();

  #stick(e: PointerEvent) {
    const el = e.currentTarget as HTMLElement;
    if (e.type === 'pointerdown') el.setPointerCapture(e.pointerId);
    if (e.type === 'pointerup' || e.type === 'pointercancel') {
      this._knob = [0, 0];
      this.#input?.stick(0, 0, eventTime(e));
      return;
    }
    if (!el.hasPointerCapture(e.pointerId)) return;
    const r = el.getBoundingClientRect();
    let x = ((e.clientX - r.left) / r.width) * 2 - 1;
    let y = -(((e.clientY - r.top) / r.height) * 2 - 1);
    const len = Math.hypot(x, y);
    if (len > 1) [x, y] = [x / len, y / len];
    this._knob = [x, y];
    this.#input?.stick(x, y, eventTime(e));
  }

  override render() {
    const [x, y] = this._knob;
    const handler = (e: PointerEvent) => this.#stick(e);
    const state = this._control
      ? this._active
        ? 'driving'
        : 'WASD / arrows / stick'
      : 'watching — request control to drive';
    return html`
      <div
        class="stick ${this._active ? 'active' : ''}"
        tabindex="0"
        role="application"
        aria-roledescription="drive stick"
        aria-label="Drive the robot"
        aria-describedby="help state"
        aria-disabled=${this._control ? 'false' : 'true'}
        @pointerdown=${handler}
        @pointermove=${handler}
        @pointerup=${handler}
        @pointercancel=${handler}
      >
        <div class="knob" style="--x: ${x}; --y: ${y}"></div>
      </div>
      <span id="help" class="visually-hidden">W A S D or the arrow keys while focused, or drag the stick.</span>
      <span id="state" class="message" data-field="control">${state}</span>
    `;
  }
}

defineElement('telekit-teleop-pad', TelekitTeleopPad);

declare global {
  interface HTMLElementTagNameMap {
    'telekit-teleop-pad': TelekitTeleopPad;
  }
}
