import { headerSequence, systemClock, type Topic } from '@telekit/core';
import type { GatewayClient } from '@telekit/gateway/client';
import { css, html, nothing } from 'lit';
import { defineElement, TelekitWidget } from './base.js';
import { theme } from './theme.js';

/** The recorder's status as `/recorder/status` carries it (`@telekit/recorder/topics`). */
export interface RecorderWidgetStatus {
  file?: string;
  bytes: number;
  files: number;
  dropped: number;
  droppedControl: number;
  episode?: { index: number; task: string; startedAt: number };
  episodes: number;
  answer?: { sender: string; seq: number; ok: boolean; reason?: string };
}

const REQUEST = '/recorder/request';
const STATUS = '/recorder/status';

const size = (bytes: number) =>
  bytes < 1e6 ? `${(bytes / 1e3).toFixed(0)} kB` : `${(bytes / 1e6).toFixed(bytes < 1e8 ? 1 : 0)} MB`;
const clock = (ms: number) => {
  const s = Math.max(0, Math.floor(ms / 1000));
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;
};

/**
 * `<telekit-recorder>`: records episodes of the session with the server's recorder
 * (`@telekit/recorder`): a Record / Stop button, the episode's task, and a status line — the file,
 * its size, what the recorder dropped while it was behind, and the episode under way with its time.
 *
 * It speaks the recorder's topics by name, `/recorder/request` and `/recorder/status`: give the
 * page's client `RecorderTopics` from `@telekit/recorder/topics` (`gatewayClient({ topics })`).
 * Operators and admins may start and stop episodes; a viewer sees the status and a disabled button.
 * Where no recorder answers (a replay, an app without one) it says so; with the `optional`
 * attribute it stays hidden instead until a recorder's status arrives (a page shown with and
 * without recording).
 *
 * The element is a labelled group (`aria-label`, default "Recorder"); the button and the task field
 * are reached with Tab, the button's label says what it does, and the status line is a live region.
 * Styled by the theme's custom properties (`--telekit-danger` for the recording mark).
 *
 * Attributes: `optional`. Events: `telekit-recorder` (`detail`: the status) on each status.
 */
export class TelekitRecorder extends TelekitWidget {
  static override properties = {
    ...TelekitWidget.properties,
    optional: { type: Boolean, reflect: true },
    _status: { state: true },
    _note: { state: true },
    _task: { state: true },
    _now: { state: true },
  };
  declare optional: boolean;
  declare _status: RecorderWidgetStatus | undefined;
  declare _note: { text: string; error: boolean } | undefined;
  declare _task: string;
  declare _now: number;
  #header = headerSequence('recorder-widget', () => systemClock.now());
  #request: Topic | undefined;
  #pending: { seq: number } | undefined;
  #tick: ReturnType<typeof setInterval> | undefined;

  static override styles = [
    theme,
    css`
      :host([optional]:not([data-present])) {
        display: none;
      }
      :host {
        display: block;
        background: var(--_bg);
        border-radius: var(--_radius);
        padding: 0.75em 1em;
      }
      form {
        display: flex;
        flex-wrap: wrap;
        gap: 0.5em;
        align-items: end;
      }
      label {
        display: flex;
        flex-direction: column;
        gap: 0.2em;
        flex: 1 1 12em;
        color: var(--_muted);
      }
      input {
        font: inherit;
        color: var(--_fg);
        background: var(--_bg);
        border: 1px solid var(--_border);
        border-radius: var(--_radius);
        padding: 0.4em 0.6em;
        min-height: 2.5em;
        box-sizing: border-box;
      }
      button.record[data-recording='true'] {
        border-color: var(--_danger);
        color: var(--_danger);
      }
      .mark {
        display: inline-block;
        width: 0.7em;
        height: 0.7em;
        border-radius: 50%;
        background: var(--_muted);
        margin-right: 0.4em;
      }
      [data-recording='true'] .mark {
        background: var(--_danger);
      }
      .status {
        margin: 0.5em 0 0;
        font-variant-numeric: tabular-nums;
        overflow-wrap: anywhere;
      }
    `,
  ];

  constructor() {
    super();
    this.optional = false;
    this._task = '';
    this._now = Date.now();
  }

  override connectedCallback(): void {
    super.connectedCallback();
    if (!this.hasAttribute('role')) this.setAttribute('role', 'group');
    if (!this.hasAttribute('aria-label') && !this.hasAttribute('aria-labelledby'))
      this.setAttribute('aria-label', 'Recorder');
  }

  protected override attach(client: GatewayClient) {
    const status = client.topic(STATUS);
    this.#request = client.topic(REQUEST);
    if (!status || !this.#request) {
      this._note = {
        text: "no recorder topics: give the page's client RecorderTopics (@telekit/recorder/topics)",
        error: true,
      };
      return [];
    }
    this._note = { text: 'waiting for the recorder…', error: false };
    this.#tick = setInterval(() => {
      if (this._status?.episode) this._now = Date.now();
    }, 1_000);
    return [
      client.subscribe(status).subscribe((s) => this.#onStatus(s as RecorderWidgetStatus, client)),
      client.faults$.subscribe((f) => {
        if (f.topic === STATUS) this._note = { text: `no recorder here (${f.message})`, error: true };
        else if (f.topic === REQUEST) {
          this.#pending = undefined;
          this._note = {
            text:
              f.code === 'E_FORBIDDEN'
                ? 'recording is for operators: this session may only watch'
                : `refused: ${f.message}`,
            error: true,
          };
        }
      }),
    ];
  }

  protected override detach(): void {
    clearInterval(this.#tick);
    this.#tick = undefined;
  }

  #onStatus(s: RecorderWidgetStatus, client: GatewayClient) {
    this._status = s;
    this.toggleAttribute('data-present', true);
    this._now = Date.now();
    const mine = s.answer && this.#pending && s.answer.seq === this.#pending.seq;
    if (mine) {
      this.#pending = undefined;
      this._note = s.answer?.ok ? undefined : { text: `not done: ${s.answer?.reason ?? ''}`, error: true };
    } else if (this._note && !this._note.error) this._note = undefined;
    if (client.role === 'viewer' && !this._note)
      this._note = { text: 'watching: only operators record', error: false };
    this.emit('telekit-recorder', s);
  }

  /** Starts an episode with `task` (the field's text by default). */
  start(task = this._task): void {
    this.#send({ action: 'start', task: task.trim() });
  }

  /** Stops the episode under way. */
  stop(): void {
    this.#send({ action: 'stop' });
  }

  #send(body: { action: 'start' | 'stop'; task?: string }) {
    if (!this.client || !this.#request) return;
    const header = this.#header();
    this.#pending = { seq: header.seq };
    this._note = { text: body.action === 'start' ? 'starting…' : 'stopping…', error: false };
    this.client.publish(this.#request, { header, ...body });
  }

  override render() {
    const s = this._status;
    const recording = Boolean(s?.episode);
    const canAct = Boolean(s) && this.client?.role !== 'viewer';
    const submit = (e: Event) => {
      e.preventDefault();
      if (recording) this.stop();
      else this.start();
    };
    const line = s
      ? [
          recording
            ? `recording episode ${s.episode!.index} · ${clock(this._now - s.episode!.startedAt)}`
            : `not recording · ${s.episodes} episode${s.episodes === 1 ? '' : 's'} so far`,
          s.file ?? '—',
          size(s.bytes),
          `dropped ${s.dropped}${s.droppedControl ? ` (+${s.droppedControl} control)` : ''}`,
        ].join(' · ')
      : 'no status yet';
    return html`
      <form @submit=${submit} data-recording=${recording ? 'true' : 'false'}>
        <label>
          Episode task
          <input
            name="task"
            type="text"
            maxlength="1000"
            placeholder="e.g. drive to the red cube"
            .value=${this._task}
            ?disabled=${recording || !canAct}
            @input=${(e: Event) => {
              this._task = (e.target as HTMLInputElement).value;
            }}
          />
        </label>
        <button
          class="record"
          type="submit"
          data-recording=${recording ? 'true' : 'false'}
          ?disabled=${!canAct}
        >
          <span class="mark" aria-hidden="true"></span>${recording ? 'Stop recording' : 'Record'}
        </button>
      </form>
      <p class="status message" role="status" data-field="recorder-status" data-recording=${recording ? 'true' : 'false'}>
        <span class="mark" aria-hidden="true"></span>${line}
      </p>
      ${this._note ? html`<p class=${this._note.error ? 'error' : 'message'} data-field="recorder-note">${this._note.text}</p>` : nothing}
    `;
  }
}

defineElement('telekit-recorder', TelekitRecorder);

declare global {
  interface HTMLElementTagNameMap {
    'telekit-recorder': TelekitRecorder;
  }
}
