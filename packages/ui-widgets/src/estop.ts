import { headerSequence, systemClock, Topics } from '@telekit/core';
import type { GatewayClient } from '@telekit/gateway/client';
import { css, html } from 'lit';
import { defineElement, TelekitWidget } from './base.js';
import { theme } from './theme.js';

/**
 * `<telekit-estop>`: the emergency stop. One click (or Enter/Space) engages it; it latches for
 * everyone until cleared, and the widget shows who engaged it. Clearing is deliberate: hold the
 * clear button (pointer or keyboard) for `clear-hold-ms` (default 1500).
 *
 * The STOP button is at least `--telekit-estop-size` high (64 px) and twice as wide, red with a
 * yellow collar in both themes; the state beside it ("armed", or "E-STOP LATCHED by …" as an
 * alert) describes it to screen readers.
 *
 * Attributes: `clear-hold-ms`. Events: `telekit-estop` (`detail: { latched, by, reason }`).
 */
export class TelekitEStop extends TelekitWidget {
  static override properties = {
    ...TelekitWidget.properties,
    clearHoldMs: { type: Number, attribute: 'clear-hold-ms' },
    _latched: { state: true },
    _by: { state: true },
    _progress: { state: true },
  };
  declare clearHoldMs: number;
  declare _latched: boolean;
  declare _by: string | undefined;
  declare _progress: number;
  #header = headerSequence('estop-widget', () => systemClock.now());
  #holding: ReturnType<typeof setInterval> | undefined;

  static override styles = [
    theme,
    css`
      :host {
        display: inline-flex;
        flex-wrap: wrap;
        gap: 0.4em 0.75em;
        align-items: center;
      }
      .stop {
        background: var(--_estop-bg);
        color: var(--_estop-fg);
        font-weight: 800;
        font-size: 1.5em;
        letter-spacing: 0.05em;
        min-height: var(--telekit-estop-size, 64px);
        min-width: calc(2 * var(--telekit-estop-size, 64px));
        padding: 0.2em 1em;
        border: 4px solid var(--_estop-ring);
        border-radius: calc(var(--_radius) * 1.5);
        touch-action: manipulation;
      }
      .stop:hover {
        background: color-mix(in srgb, var(--_estop-bg) 88%, black);
      }
      .stop:focus-visible {
        outline-width: 4px;
      }
      .state {
        display: flex;
        flex-direction: column;
        align-items: flex-start;
        gap: 0.3em;
      }
      .latched {
        color: var(--_danger);
        font-weight: 700;
      }
      .clear {
        background: linear-gradient(
          to right,
          color-mix(in srgb, var(--_ok) 45%, var(--_bg)) var(--p),
          color-mix(in srgb, var(--_fg) 8%, var(--_bg)) var(--p)
        );
        /* A finger held on it is a hold, not a long press (no menu, no selection). */
        touch-action: none;
        user-select: none;
        -webkit-user-select: none;
        -webkit-touch-callout: none;
      }
    `,
  ];

  constructor() {
    super();
    this.clearHoldMs = 1_500;
    this._latched = false;
    this._progress = 0;
  }

  protected override attach(client: GatewayClient) {
    return [
      client.estop$.subscribe((e) => {
        this._latched = e.latched;
        this._by = e.by;
        this.emit('telekit-estop', e);
      }),
    ];
  }

  /** Engages the e-stop (what the button does). */
  engage(reason = 'operator pressed e-stop'): void {
    this.client?.publish(Topics.estop, { header: this.#header(), engage: true, reason });
  }

  #startClear(): void {
    if (this.#holding) return;
    const started = performance.now();
    this.#holding = setInterval(() => {
      this._progress = Math.min(1, (performance.now() - started) / this.clearHoldMs);
      if (this._progress >= 1) {
        this.#stopClear();
        this.client?.publish(Topics.estop, { header: this.#header(), engage: false, reason: 'cleared' });
      }
    }, 50);
  }

  #stopClear(): void {
    clearInterval(this.#holding);
    this.#holding = undefined;
    this._progress = 0;
  }

  override render() {
    const key = (start: boolean) => (e: KeyboardEvent) => {
      if (e.key !== ' ' && e.key !== 'Enter') return;
      e.preventDefault();
      if (start && !e.repeat) this.#startClear();
      if (!start) this.#stopClear();
    };
    const hold = (this.clearHoldMs / 1000).toFixed(1);
    return html`
      <button
        class="stop"
        aria-label="Emergency stop"
        aria-describedby="state"
        data-latched=${this._latched ? 'true' : 'false'}
        @click=${() => this.engage()}
      >
        STOP
      </button>
      <div class="state">
        ${
          this._latched
            ? html`<span id="state" class="latched" role="alert" data-field="latched"
                  >E-STOP LATCHED${this._by ? ` by ${this._by}` : ''}</span
                >
                <button
                  class="clear"
                  aria-label="Hold to clear the e-stop"
                  aria-describedby="hold-help"
                  style="--p: ${Math.round(this._progress * 100)}%"
                  @pointerdown=${() => this.#startClear()}
                  @pointerup=${() => this.#stopClear()}
                  @pointerleave=${() => this.#stopClear()}
                  @pointercancel=${() => this.#stopClear()}
                  @contextmenu=${(e: Event) => e.preventDefault()}
                  @keydown=${key(true)}
                  @keyup=${key(false)}
                  @blur=${() => this.#stopClear()}
                >
                  Hold to clear
                </button>
                <span id="hold-help" class="visually-hidden"
                  >press and hold, or hold Space or Enter, for ${hold} s</span
                >`
            : html`<span id="state" class="message" role="status" data-field="latched">armed</span>`
        }
      </div>
    `;
  }
}

defineElement('telekit-estop', TelekitEStop);

declare global {
  interface HTMLElementTagNameMap {
    'telekit-estop': TelekitEStop;
  }
}
