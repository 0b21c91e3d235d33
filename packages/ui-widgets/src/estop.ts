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
        flex-direction: column;
        gap: 0.5em;
        align-items: stretch;
      }
      .stop {
        background: var(--_danger);
        color: white;
        font-weight: 700;
        font-size: 1.3em;
        padding: 0.8em 1.4em;
        border: 3px solid color-mix(in srgb, var(--_danger) 60%, black);
      }
      .latched {
        color: var(--_danger);
        font-weight: 700;
      }
      .clear {
        background: linear-gradient(
          to right,
          color-mix(in srgb, var(--_ok) 60%, transparent) var(--p),
          transparent var(--p)
        );
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
    return html`
      <button class="stop" aria-label="Emergency stop" @click=${() => this.engage()}>STOP</button>
      ${
        this._latched
          ? html`<span class="latched" role="alert" data-field="latched">E-STOP LATCHED${this._by ? ` by ${this._by}` : ''}</span>
            <button
              class="clear"
              style="--p: ${Math.round(this._progress * 100)}%"
              @pointerdown=${() => this.#startClear()}
              @pointerup=${() => this.#stopClear()}
              @pointerleave=${() => this.#stopClear()}
              @keydown=${key(true)}
              @keyup=${key(false)}
            >
              Hold to clear
            </button>`
          : html`<span class="message" data-field="latched">armed</span>`
      }
    `;
  }
}

defineElement('telekit-estop', TelekitEStop);

declare global {
  interface HTMLElementTagNameMap {
    'telekit-estop': TelekitEStop;
  }
}
