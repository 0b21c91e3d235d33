import { headerSequence, systemClock, Topics, type Twist } from '@telekit/core';
import type { GatewayClient } from '@telekit/gateway/client';
import { css, html } from 'lit';
import { TelekitWidget } from './base.js';
import { theme } from './theme.js';

const KEYS: Record<string, [number, number]> = {
  w: [1, 0],
  arrowup: [1, 0],
  s: [-1, 0],
  arrowdown: [-1, 0],
  a: [0, 1],
  arrowleft: [0, 1],
  d: [0, -1],
  arrowright: [0, -1],
};

const deadzone = (v: number) => (Math.abs(v) < 0.12 ? 0 : v);

/**
 * `<telekit-teleop-pad>`: drives the robot. Keyboard (WASD and arrows) while the pad has focus — or
 * anywhere on the page with `global` —, a gamepad (left stick, only while the deadman button is
 * held), and a touch joystick. While any input is active it sends `/controller/twist` at a steady
 * `rate`; when all are released it sends one zero command and stops (the gateway's deadman stops the
 * robot anyway if commands stop arriving). Focus leaving the page releases every key.
 *
 * It sends only while this client holds control; otherwise it says so.
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
  #keys = new Set<string>();
  #timer: ReturnType<typeof setInterval> | undefined;
  #header = headerSequence('teleop-pad', () => systemClock.now());
  #sent = 0;

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
        touch-action: none;
      }
      .stick {
        width: 120px;
        height: 120px;
        border-radius: 50%;
        background: color-mix(in srgb, var(--_fg) 8%, transparent);
        border: 1px solid color-mix(in srgb, var(--_fg) 25%, transparent);
        position: relative;
      }
      .knob {
        position: absolute;
        width: 44px;
        height: 44px;
        border-radius: 50%;
        background: var(--_accent);
        left: calc(50% - 22px + var(--x) * 38px);
        top: calc(50% - 22px - var(--y) * 38px);
      }
      .active .knob {
        box-shadow: 0 0 0 4px color-mix(in srgb, var(--_accent) 40%, transparent);
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
    this.tabIndex = 0;
  }

  override connectedCallback(): void {
    super.connectedCallback();
    this.addEventListener('keydown', this.#down);
    this.addEventListener('keyup', this.#up);
    window.addEventListener('keydown', this.#globalDown);
    window.addEventListener('keyup', this.#globalUp);
    window.addEventListener('blur', this.#releaseAll);
    document.addEventListener('visibilitychange', this.#releaseAll);
    this.#timer = setInterval(() => this.#tick(), 1000 / this.rate);
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    this.removeEventListener('keydown', this.#down);
    this.removeEventListener('keyup', this.#up);
    window.removeEventListener('keydown', this.#globalDown);
    window.removeEventListener('keyup', this.#globalUp);
    window.removeEventListener('blur', this.#releaseAll);
    document.removeEventListener('visibilitychange', this.#releaseAll);
    clearInterval(this.#timer);
    this.#releaseAll();
    this.#tick();
  }

  protected override attach(client: GatewayClient) {
    return [
      client.lease$.subscribe(() => {
        this._control = client.holdsControl;
      }),
    ];
  }

  #down = (e: KeyboardEvent) => {
    const k = e.key.toLowerCase();
    if (!(k in KEYS)) return;
    e.preventDefault();
    e.stopPropagation();
    this.#keys.add(k);
  };
  #up = (e: KeyboardEvent) => {
    this.#keys.delete(e.key.toLowerCase());
  };
  #globalDown = (e: KeyboardEvent) => {
    if (this.global && !e.composedPath().includes(this)) this.#down(e);
  };
  #globalUp = (e: KeyboardEvent) => this.#up(e);
  #releaseAll = () => {
    this.#keys.clear();
    this._knob = [0, 0];
  };

  #stick(e: PointerEvent) {
    const el = e.currentTarget as HTMLElement;
    if (e.type === 'pointerdown') el.setPointerCapture(e.pointerId);
    if (e.type === 'pointerup' || e.type === 'pointercancel') {
      this._knob = [0, 0];
      return;
    }
    if (!el.hasPointerCapture(e.pointerId)) return;
    const r = el.getBoundingClientRect();
    let x = ((e.clientX - r.left) / r.width) * 2 - 1;
    let y = -(((e.clientY - r.top) / r.height) * 2 - 1);
    const len = Math.hypot(x, y);
    if (len > 1) [x, y] = [x / len, y / len];
    this._knob = [x, y];
  }

  /** The command now: forward (−1…1) and turn (−1…1, left positive), and whether anything is held. */
  #input(): { forward: number; turn: number; held: boolean } {
    let forward = 0;
    let turn = 0;
    for (const k of this.#keys) {
      forward += KEYS[k]![0];
      turn += KEYS[k]![1];
    }
    let held = this.#keys.size > 0;
    const [kx, ky] = this._knob;
    if (kx !== 0 || ky !== 0) {
      forward += ky;
      turn -= kx;
      held = true;
    }
    for (const pad of navigator.getGamepads?.() ?? []) {
      if (!pad?.buttons[this.deadmanButton]?.pressed) continue;
      forward -= deadzone(pad.axes[1] ?? 0);
      turn -= deadzone(pad.axes[0] ?? 0);
      held = true;
    }
    const clamp = (v: number) => Math.max(-1, Math.min(1, v));
    return { forward: clamp(forward), turn: clamp(turn), held };
  }

  #tick(): void {
    const { forward, turn, held } = this.#input();
    const client = this.client;
    if (held !== this._active) this._active = held;
    if (!client?.holdsControl) return;
    if (!held && this.#sent === 0) return;
    const twist: Twist = {
      header: this.#header(),
      linear: { x: forward * this.maxLinear, y: 0, z: 0 },
      angular: { x: 0, y: 0, z: turn * this.maxAngular },
    };
    client.publish(Topics.twist, twist);
    this.emit('telekit-twist', twist);
    // After release: one zero command, then silence.
    this.#sent = held ? this.#sent + 1 : 0;
  }

  override render() {
    const [x, y] = this._knob;
    const handler = (e: PointerEvent) => this.#stick(e);
    return html`
      <div
        class="stick ${this._active ? 'active' : ''}"
        role="application"
        aria-label="Drive: WASD or arrow keys, or drag"
        @pointerdown=${handler}
        @pointermove=${handler}
        @pointerup=${handler}
        @pointercancel=${handler}
      >
        <div class="knob" style="--x: ${x}; --y: ${y}"></div>
      </div>
      <span class="message" data-field="control">
        ${this._control ? (this._active ? 'driving' : 'WASD / arrows / stick') : 'watching — request control to drive'}
      </span>
    `;
  }
}
