import type { ConnectionState } from '@telekit/core';
import type { ClientLinkHealth, GatewayClient } from '@telekit/gateway/client';
import { css, html } from 'lit';
import { TelekitWidget } from './base.js';
import { theme } from './theme.js';

const ms = (v: number | null | undefined) => (v === null || v === undefined ? '—' : `${v.toFixed(1)} ms`);

/**
 * `<telekit-link-health>`: the link as this client sees it — connection state, round trip, clock
 * offset, input→actuation latency (p50/p99 of this client's own commands), drops — and who holds
 * control, with buttons to request and release it.
 *
 * Events: `telekit-lease` (`detail: { holder, mine }`) when the lease changes.
 */
export class TelekitLinkHealth extends TelekitWidget {
  static override properties = {
    ...TelekitWidget.properties,
    _health: { state: true },
    _state: { state: true },
    _holder: { state: true },
    _note: { state: true },
  };
  declare _health: ClientLinkHealth | undefined;
  declare _state: ConnectionState | undefined;
  declare _holder: { id: string; name: string; role: string } | null | undefined;
  declare _note: string | undefined;

  static override styles = [
    theme,
    css`
      :host {
        display: block;
        background: var(--_bg);
        border-radius: var(--_radius);
        padding: 0.75em 1em;
      }
      dl {
        display: grid;
        grid-template-columns: auto 1fr;
        gap: 0.2em 1em;
        margin: 0 0 0.6em;
      }
      dt {
        color: var(--_muted);
      }
      dd {
        margin: 0;
        font-variant-numeric: tabular-nums;
      }
      .up {
        color: var(--_ok);
      }
      .down {
        color: var(--_danger);
      }
      .buttons {
        display: flex;
        gap: 0.5em;
      }
    `,
  ];

  protected override attach(client: GatewayClient) {
    return [
      client.state$.subscribe((s) => {
        this._state = s;
      }),
      client.health$.subscribe((h) => {
        this._health = h;
      }),
      client.lease$.subscribe((holder) => {
        this._holder = holder;
        this.emit('telekit-lease', { holder, mine: client.holdsControl });
      }),
    ];
  }

  async #request(takeover = false) {
    const answer = await this.client
      ?.requestControl({ takeover })
      .catch((e: Error) => ({ error: e.message }));
    this._note =
      answer && 'granted' in answer && !answer.granted
        ? `not granted: ${answer.reason}${answer.holder ? ` (held by ${answer.holder.name})` : ''}`
        : answer && 'error' in answer
          ? answer.error
          : undefined;
  }

  override render() {
    const h = this._health;
    const s = this._state;
    const mine = this.client?.holdsControl ?? false;
    const connected = s?.status === 'connected';
    const offset = h?.estimate?.offset ?? h?.offset;
    // The gateway's own measure of recent probes (p50 and p99), so congestion shows.
    const rtt = h?.rtt;
    return html`
      <dl>
        <dt>link</dt>
        <dd class=${connected ? 'up' : 'down'} data-field="status">
          ${s ? s.status : 'no client'}${s?.reason && !connected ? ` — ${s.reason}` : ''}
        </dd>
        <dt>round trip</dt>
        <dd data-field="rtt">${rtt ? `p50 ${ms(rtt.p50)} · p99 ${ms(rtt.p99)}` : ms(h?.estimate?.rtt)}</dd>
        <dt>clock offset</dt>
        <dd data-field="offset">${ms(offset)}</dd>
        <dt>input → actuation</dt>
        <dd data-field="actuation">
          ${h?.inputToActuation ? `p50 ${ms(h.inputToActuation.p50)} · p99 ${ms(h.inputToActuation.p99)}` : '—'}
        </dd>
        <dt>drops</dt>
        <dd data-field="drops">${h ? `telemetry ${h.drops.telemetry} · control ${h.drops.control}` : '—'}</dd>
        <dt>control</dt>
        <dd data-field="lease">${this._holder ? `${this._holder.name}${mine ? ' (you)' : ''}` : 'nobody'}</dd>
      </dl>
      <div class="buttons">
        ${
          mine
            ? html`<button @click=${() => this.client?.releaseControl()}>Release control</button>`
            : html`<button ?disabled=${!connected} @click=${() => this.#request()}>Request control</button>
                ${this.client?.role === 'admin' && this._holder ? html`<button @click=${() => this.#request(true)}>Take over</button>` : ''}`
        }
      </div>
      ${this._note ? html`<p class="message" role="status">${this._note}</p>` : ''}
    `;
  }
}
