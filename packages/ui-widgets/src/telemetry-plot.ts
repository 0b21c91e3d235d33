import { type Topic, topicByName } from '@telekit/core';
import type { GatewayClient } from '@telekit/gateway/client';
import { css, html } from 'lit';
import uPlot from 'uplot';
import { defineElement, TelekitWidget } from './base.js';
import { theme } from './theme.js';

/** Series colours, each at least 3:1 against both themes' backgrounds (white and #1b1f26). */
const COLOURS = ['#3d7fe0', '#c2711c', '#2f9e5e', '#d9434a', '#8b6fd6', '#1a9bb5'];

/** Reads `a.b.0.c` out of a message; undefined unless it is a finite number. */
function pick(message: unknown, path: readonly string[]): number | undefined {
  let v: unknown = message;
  for (const key of path) {
    if (v === null || typeof v !== 'object') return undefined;
    v = (v as Record<string, unknown>)[key];
  }
  return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
}

/**
 * `<telekit-telemetry-plot>`: a live plot of chosen fields of a telemetry topic, drawn with uPlot.
 *
 * Attributes: `topic` (e.g. `/telemetry/pose`), `fields` (comma-separated paths, e.g.
 * `position.x,position.y`; array items by index, `velocity.0`), `window` (seconds shown, default
 * 10), `height` (px, default 160). Events: `telekit-sample` (`detail: { time, values }`).
 */
export class TelekitTelemetryPlot extends TelekitWidget {
  static override properties = {
    ...TelekitWidget.properties,
    topic: { type: String },
    fields: { type: String },
    window: { type: Number },
    height: { type: Number },
    _error: { state: true },
    _last: { state: true },
  };
  declare topic: string;
  declare fields: string;
  declare window: number;
  declare height: number;
  declare _error: string | undefined;
  declare _last: (number | undefined)[];
  #plot: uPlot | undefined;
  #data: number[][] = [];
  #resize: ResizeObserver | undefined;

  static override styles = [
    theme,
    css`
      :host {
        display: block;
        background: var(--_bg);
        border-radius: var(--_radius);
        padding: 0.5em;
      }
      .uplot,
      .u-wrap {
        position: relative;
      }
      .u-over,
      .u-under {
        position: absolute;
      }
      .uplot canvas {
        display: block;
      }
      .legend {
        display: flex;
        gap: 1em;
        flex-wrap: wrap;
        font-variant-numeric: tabular-nums;
      }
      .legend span::before {
        content: '';
        display: inline-block;
        width: 0.8em;
        height: 0.8em;
        margin-right: 0.3em;
        border-radius: 2px;
        background: var(--c);
      }
    `,
  ];

  constructor() {
    super();
    this.topic = '/telemetry/pose';
    this.fields = 'position.x,position.y';
    this.window = 10;
    this.height = 160;
    this._last = [];
  }

  get #paths(): string[][] {
    return this.fields
      .split(',')
      .map((f) => f.trim())
      .filter(Boolean)
      .map((f) => f.split('.'));
  }

  protected override attach(client: GatewayClient) {
    const topic = (client.topic?.(this.topic) ?? topicByName(this.topic)) as Topic | undefined;
    if (topic?.lane !== 'telemetry') {
      this._error = `topic: expected a telemetry topic such as /telemetry/pose, got ${this.topic}`;
      return [];
    }
    this._error = undefined;
    const paths = this.#paths;
    this.#data = [[], ...paths.map(() => [])];
    return [
      client.subscribe(topic).subscribe((message) => {
        const stamp = (message as { header?: { stamp?: number } }).header?.stamp ?? Date.now();
        const t = stamp / 1000;
        const values = paths.map((p) => pick(message, p));
        this.#data[0]!.push(t);
        for (const [i, v] of values.entries()) this.#data[i + 1]!.push(v ?? Number.NaN);
        while (this.#data[0]!.length > 1 && t - this.#data[0]![0]! > this.window)
          for (const series of this.#data) series.shift();
        this._last = values;
        this.#plot?.setData(this.#data as uPlot.AlignedData);
        this.emit('telekit-sample', { time: stamp, values });
      }),
    ];
  }

  protected override detach(): void {
    this.#plot?.destroy();
    this.#plot = undefined;
  }

  protected override firstUpdated(): void {
    const target = this.renderRoot.querySelector('.plot') as HTMLElement;
    const make = () => {
      this.#plot?.destroy();
      // Read at every draw: the text colour follows the theme (light, dark) when it changes.
      const axis = { stroke: () => getComputedStyle(this).color, grid: { stroke: 'rgba(128,128,128,0.25)' } };
      this.#plot = new uPlot(
        {
          width: Math.max(200, target.clientWidth),
          height: this.height,
          legend: { show: false },
          cursor: { show: false },
          scales: { x: { time: true } },
          axes: [axis, axis],
          series: [
            {},
            ...this.#paths.map((p, i) => ({
              label: p.join('.'),
              stroke: COLOURS[i % COLOURS.length]!,
              width: 2,
            })),
          ],
        },
        (this.#data.length ? this.#data : [[], ...this.#paths.map(() => [])]) as uPlot.AlignedData,
        target,
      );
    };
    make();
    this.#resize = new ResizeObserver(() =>
      this.#plot?.setSize({ width: Math.max(200, target.clientWidth), height: this.height }),
    );
    this.#resize.observe(target);
  }

  override render() {
    const paths = this.#paths;
    return html`
      ${this._error ? html`<p class="error" role="alert">${this._error}</p>` : ''}
      <div class="legend">
        ${paths.map(
          (p, i) =>
            html`<span style="--c: ${COLOURS[i % COLOURS.length]}" data-field=${p.join('.')}
              >${p.join('.')} ${this._last[i]?.toFixed(3) ?? '—'}</span
            >`,
        )}
      </div>
      <div
        class="plot"
        role="img"
        aria-label="plot of ${paths.map((p) => p.join('.')).join(', ')} over the last ${this.window} s"
      ></div>
    `;
  }
}

defineElement('telekit-telemetry-plot', TelekitTelemetryPlot);

declare global {
  interface HTMLElementTagNameMap {
    'telekit-telemetry-plot': TelekitTelemetryPlot;
  }
}
