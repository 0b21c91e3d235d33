import type { ConnectionState } from '@telekit/core';
import type { ClientLinkHealth, GatewayClient } from '@telekit/gateway/client';
import { css, html, nothing } from 'lit';
import { defineElement, TelekitWidget } from './base.js';
import { layoutWaterfall, type WaterfallRow } from './latency-waterfall.js';
import { describeLane } from './link-health-lane.js';
import { theme } from './theme.js';

const ms = (v: number | null | undefined) => (v === null || v === undefined ? '—' : `${v.toFixed(1)} ms`);
const FATES = ['applied', 'superseded', 'expired', 'estop', 'refused'] as const;

/**
 * `<telekit-link-health>`: the link as this client sees it — connection state, round trip, clock
 * offset, the control lane its commands take (the DataChannel, or socket.io and why not the
 * DataChannel), input→actuation latency (p50/p99 of this client's own commands), what became of
 * them, drops — the latency budget as a waterfall, and, first, who holds control, with the button to
 * request or release it.
 *
 * The waterfall has a row per stage of a command's trip (input → send on the page, network, the
 * gateway's safety gate, the trip to the actuator, the wait for the physics step, the report back):
 * each bar starts where the stages before it end and is as long as its median, with a thin whisker
 * to its p99, over this client's commands of the last few seconds; the last row is input→actuation
 * itself, measured per command. The dashed line is the budget (`budget-ms`, default 50 ms).
 *
 * The link's state, the control lane and the lease's holder are live regions (`role="status"`): a
 * screen reader announces a link going down or coming back, commands falling back to socket.io or
 * moving to the DataChannel, and control changing hands (the lane's is named `control lane …`). Request and Release are
 * one button whose label says what it does (it keeps the keyboard focus when the lease changes).
 *
 * Attributes: `budget-ms`.
 * Events: `telekit-lease` (`detail: { holder, mine }`) when the lease changes.
 */
export class TelekitLinkHealth extends TelekitWidget {
  static override properties = {
    ...TelekitWidget.properties,
    budgetMs: { type: Number, attribute: 'budget-ms' },
    _health: { state: true },
    _state: { state: true },
    _holder: { state: true },
    _note: { state: true },
  };
  declare budgetMs: number;
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
      .lane-name {
        font-weight: 600;
      }
      [data-lane='datachannel'] .lane-name {
        color: var(--_ok);
      }
      [data-lane='none'] .lane-name {
        color: var(--_danger);
      }
      .lane-detail {
        color: var(--_muted);
      }
      .control {
        display: flex;
        flex-wrap: wrap;
        align-items: center;
        gap: 0.5em 1em;
      }
      .control .label {
        color: var(--_muted);
      }
      .control .holder {
        flex: 1 1 auto;
      }
      .buttons {
        display: flex;
        gap: 0.5em;
      }
      .note {
        margin: 0.3em 0 0.5em;
      }

      table.waterfall {
        width: 100%;
        border-collapse: collapse;
        margin: 0 0 0.6em;
        font-size: 0.9em;
        font-variant-numeric: tabular-nums;
      }
      .waterfall caption {
        text-align: left;
        color: var(--_muted);
        padding-bottom: 0.2em;
      }
      .waterfall th {
        font-weight: normal;
        text-align: left;
        color: var(--_muted);
        white-space: nowrap;
        padding-right: 0.6em;
      }
      .waterfall td.num {
        text-align: right;
        white-space: nowrap;
        padding-left: 0.5em;
      }
      .waterfall td.bar {
        width: 100%;
        position: relative;
        height: 1.1em;
      }
      .waterfall .track {
        position: absolute;
        inset: 0.25em 0;
      }
      .waterfall .p50 {
        position: absolute;
        top: 0;
        bottom: 0;
        min-width: 1px;
        background: var(--_accent);
        border-radius: 2px;
      }
      .waterfall .p99 {
        position: absolute;
        top: 45%;
        height: 10%;
        min-width: 1px;
        background: color-mix(in srgb, var(--_accent) 60%, transparent);
      }
      .waterfall tr.total .p50 {
        background: var(--_ok);
      }
      .waterfall tr.total.over .p50 {
        background: var(--_danger);
      }
      .waterfall tr.back .p50 {
        background: var(--_muted);
      }
      .waterfall .budget {
        position: absolute;
        top: -0.2em;
        bottom: -0.2em;
        border-left: 1px dashed var(--_danger);
      }
    `,
  ];

  constructor() {
    super();
    this.budgetMs = 50;
  }

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

  /** What became of this client's commands over the window: every fate, superseded ones counted. */
  #fates() {
    const b = this._health?.budget;
    if (!b) return '—';
    const parts = FATES.filter((f) => (b.fates[f] ?? 0) > 0).map((f) => `${f} ${b.fates[f]}`);
    return parts.length ? `${parts.join(' · ')} (last ${b.windowMs / 1000} s)` : 'none lately';
  }

  #waterfall() {
    const b = this._health?.budget;
    if (!b || (b.stages.length === 0 && !b.inputToActuation)) return nothing;
    const w = layoutWaterfall(b, this.budgetMs);
    const pct = (v: number) => `${Math.min(100, (v / w.scaleMs) * 100).toFixed(2)}%`;
    const row = (r: WaterfallRow) => {
      const cls = [
        r.stage === 'total' ? 'total' : '',
        r.stage === 'total' && r.p99 > w.budgetMs ? 'over' : '',
        r.stage === 'report' ? 'back' : '',
      ].join(' ');
      return html`<tr class=${cls} data-stage=${r.stage} title=${r.about}>
        <th scope="row">${r.label}</th>
        <td class="bar">
          <div class="track">
            <div class="p99" style="left:${pct(r.start + r.p50)};width:${pct(Math.max(0, r.p99 - r.p50))}"></div>
            <div class="p50" style="left:${pct(r.start)};width:${pct(r.p50)}"></div>
            ${r.stage === 'total' ? html`<div class="budget" style="left:${pct(w.budgetMs)}"></div>` : nothing}
          </div>
        </td>
        <td class="num" data-field="p50">${ms(r.p50)}</td>
        <td class="num" data-field="p99">${ms(r.p99)}</td>
      </tr>`;
    };
    return html`<table class="waterfall" aria-label="Latency budget">
      <caption>
        latency budget · p50 bar, p99 whisker · last ${b.windowMs / 1000} s · budget ${w.budgetMs} ms
      </caption>
      <thead>
        <tr><th scope="col">stage</th><th scope="col"><span class="message">0–${w.scaleMs.toFixed(0)} ms</span></th><th scope="col">p50</th><th scope="col">p99</th></tr>
      </thead>
      <tbody>
        ${w.rows.map(row)} ${w.total ? row(w.total) : nothing}
      </tbody>
    </table>`;
  }

  /**
   * The lane this client's streamed commands take: its name is a live region (announced when it
   * changes, not as the DataChannel's round trip does), the reason beside it.
   */
  #lane() {
    const h = this._health;
    if (!h?.lane) return html`<dd data-field="lane">—</dd>`;
    const d = describeLane(h);
    return html`<dd data-field="lane" data-lane=${d.lane} title=${d.summary}>
      <span class="lane-name" role="status" aria-label=${`control lane ${d.label}`}>${d.label}</span>
      ${d.detail ? html`<span class="lane-detail"> · ${d.detail}</span>` : nothing}
    </dd>`;
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
      <div class="control">
        <span class="label">control</span>
        <span class="holder" role="status" data-field="lease"
          >${this._holder ? `${this._holder.name}${mine ? ' (you)' : ''}` : 'nobody'}</span
        >
        <div class="buttons">
          <button
            data-field="control-button"
            ?disabled=${!mine && !connected}
            @click=${() => (mine ? this.client?.releaseControl() : this.#request())}
          >
            ${mine ? 'Release control' : 'Request control'}
          </button>
          ${
            !mine && this.client?.role === 'admin' && this._holder
              ? html`<button @click=${() => this.#request(true)}>Take over</button>`
              : ''
          }
        </div>
      </div>
      <p class="message note" role="status">${this._note ?? ''}</p>
      <dl>
        <dt>link</dt>
        <dd class=${connected ? 'up' : 'down'}>
          <span role="status" data-field="status">${s ? s.status : 'no client'}${s?.reason && !connected ? ` — ${s.reason}` : ''}</span>
        </dd>
        <dt>control lane</dt>
        ${this.#lane()}
        <dt>round trip</dt>
        <dd data-field="rtt">${rtt ? `p50 ${ms(rtt.p50)} · p99 ${ms(rtt.p99)}` : ms(h?.estimate?.rtt)}</dd>
        <dt>clock offset</dt>
        <dd data-field="offset">${ms(offset)}</dd>
        <dt>input → actuation</dt>
        <dd data-field="actuation">
          ${h?.inputToActuation ? `p50 ${ms(h.inputToActuation.p50)} · p99 ${ms(h.inputToActuation.p99)}` : '—'}
        </dd>
        <dt>commands</dt>
        <dd data-field="fates">${this.#fates()}</dd>
        <dt>drops</dt>
        <dd data-field="drops">${h ? `telemetry ${h.drops.telemetry} · control ${h.drops.control}` : '—'}</dd>
      </dl>
      ${this.#waterfall()}
    `;
  }
}

defineElement('telekit-link-health', TelekitLinkHealth);

declare global {
  interface HTMLElementTagNameMap {
    'telekit-link-health': TelekitLinkHealth;
  }
}
