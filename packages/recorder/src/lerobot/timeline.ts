/**
 * The recordings as the export reads them: every file's messages merged into one timeline (each
 * topic's samples in time order), the episodes they hold (from `/recorder/episode` marks, or a whole
 * file), which commands their actuator reported as applied, and sample-and-hold resampling of a
 * field onto the dataset's grid.
 */
import { type RecordedMessage, readRecording } from '../read-recording.js';
import type { ResolvedField } from './mapping.js';

/** One message's time (ms) and JSON. */
export interface Sample {
  t: number;
  json: unknown;
}

/** An episode's task and span, ms. */
export interface Episode {
  task: string;
  start: number;
  end: number;
}

/** Every file read: samples per topic in time order, and the episodes by key. */
export interface Timeline {
  readonly byTopic: Map<string, Sample[]>;
  readonly episodes: Map<string, Episode>;
}

const TELEKIT_FATE_OK = new Set(['applied']);
const ms = (m: RecordedMessage) => Number(m.logTime) / 1e6;

/** Episodes of a file: from its `/recorder/episode` marks, or the whole file when it has none. */
function episodesOf(messages: readonly RecordedMessage[], task: string): Map<string, Episode> {
  const out = new Map<string, Episode>();
  const marks = messages.filter((m) => m.topic === '/recorder/episode');
  // A stream read (a file cut short) is in file order: the span is the extremes, not the ends.
  let first = Number.POSITIVE_INFINITY;
  let last = Number.NEGATIVE_INFINITY;
  for (const m of messages) {
    first = Math.min(first, ms(m));
    last = Math.max(last, ms(m));
  }
  if (marks.length === 0) {
    if (messages.length > 0) out.set(`file:${first}`, { task, start: first, end: last });
    return out;
  }
  for (const m of marks) {
    const e = m.json as { event: string; index: number; task: string; startedAt: number; stoppedAt?: number };
    const key = `${e.startedAt}:${e.index}`;
    const ep = out.get(key) ?? { task: e.task, start: e.startedAt, end: Number.NaN };
    if (e.event === 'stop') ep.end = e.stoppedAt ?? ms(m);
    out.set(key, ep);
  }
  // An episode with no stop (the recorder was killed, or the file rotated): up to its file's last message.
  for (const ep of out.values()) if (Number.isNaN(ep.end)) ep.end = last;
  return out;
}

/**
 * Reads every file; episodes per file (one spanning several files is joined), messages merged in
 * time. `read` is told of each file before it is read, and once more at the end.
 */
export async function readTimeline(
  files: readonly string[],
  task: string,
  read: (file: string, done: number) => void,
): Promise<Timeline> {
  const episodes = new Map<string, Episode>();
  const byTopic = new Map<string, Sample[]>();
  for (const [i, file] of files.entries()) {
    read(file, i);
    const rec = await readRecording(file);
    for (const [k, e] of episodesOf(rec.messages, task)) {
      const prev = episodes.get(k);
      episodes.set(k, prev ? { ...prev, end: Math.max(prev.end, e.end) } : e);
    }
    for (const m of rec.messages) {
      const list = byTopic.get(m.topic) ?? [];
      if (list.length === 0) byTopic.set(m.topic, list);
      list.push({ t: ms(m), json: m.json });
    }
  }
  read(files[files.length - 1]!, files.length);
  for (const list of byTopic.values()) list.sort((a, b) => a.t - b.t);
  return { byTopic, episodes };
}

/**
 * The samples of a command topic that were acted on: commands their actuator reported as not
 * applied (`/telemetry/actuation`) never become actions.
 */
export function actedOn(byTopic: ReadonlyMap<string, Sample[]>): (topic: string) => Sample[] {
  const fates = new Map<string, string>();
  for (const a of byTopic.get('/telemetry/actuation') ?? []) {
    const r = a.json as { command: { topic: string; sender: string; seq: number }; fate: string };
    fates.set(`${r.command.topic}|${r.command.sender}|${r.command.seq}`, r.fate);
  }
  return (topic: string) =>
    (byTopic.get(topic) ?? []).filter((s) => {
      const h = (s.json as { header?: { sender: string; seq: number } }).header;
      const fate = h ? fates.get(`${topic}|${h.sender}|${h.seq}`) : undefined;
      return fate === undefined || TELEKIT_FATE_OK.has(fate);
    });
}

/** Sample-and-hold of one field at the grid's ticks. */
export function resample(
  field: Pick<ResolvedField, 'read' | 'before'> & { beforeFrom?: ResolvedField['beforeFrom'] },
  samples: readonly { t: number; json: unknown }[],
  ticks: readonly number[],
  samplesOf?: (topic: string) => readonly { t: number; json: unknown }[],
): number[] {
  const out: number[] = [];
  const stand =
    field.beforeFrom && samplesOf
      ? resample({ read: field.beforeFrom.read, before: undefined }, samplesOf(field.beforeFrom.topic), ticks)
      : undefined;
  const first = samples.findIndex((s) => field.read(s.json) !== undefined);
  const backfill = field.before ?? (first >= 0 ? field.read(samples[first]!.json) : 0) ?? 0;
  // The latest sample carrying the field at or before the first tick, found by bisection, then walk on.
  let lo = 0;
  let hi = samples.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (samples[mid]!.t <= (ticks[0] ?? 0)) lo = mid + 1;
    else hi = mid;
  }
  let cur: number | undefined;
  for (let j = lo - 1; j >= 0 && cur === undefined; j--) cur = field.read(samples[j]!.json);
  let i = lo;
  for (const t of ticks) {
    while (i < samples.length && samples[i]!.t <= t) {
      const v = field.read(samples[i]!.json);
      if (v !== undefined) cur = v;
      i++;
    }
    out.push(cur ?? stand?.[out.length] ?? backfill);
  }
  return out;
}
