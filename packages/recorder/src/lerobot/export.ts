import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { TelekitError } from '@telekit/core';
import { type RecordedMessage, readRecording } from '../read-recording.js';
import {
  ARM_MAPPING,
  DIFF_DRIVE_MAPPING,
  type LeRobotField,
  type LeRobotMapping,
  type ResolvedField,
  resolveFields,
} from './mapping.js';
import { type Column, pandasIndexMetadata, writeParquet } from './parquet.js';
import { type FeatureStats, type ImageStats, vectorStats } from './stats.js';
import {
  type EpisodeVideo,
  isKeyframe,
  mp4ImageStats,
  planReencode,
  planRemux,
  probeSize,
  reencodeMp4,
  remuxMp4,
  type VideoUnit,
} from './video.js';

/** What {@link exportLeRobot} reports as it goes (the CLI prints it). */
export type ExportProgress =
  | { stage: 'read'; file: string; done: number; total: number }
  | { stage: 'data'; episodes: number; frames: number }
  | { stage: 'video'; camera: string; mode: 'remux' | 're-encode'; done: number; total: number }
  | { stage: 'stats'; camera: string }
  | { stage: 'done'; out: string };

/** Options of {@link exportLeRobot}. */
export interface LeRobotExportOptions {
  /** The dataset's folder (made; an existing one is replaced). */
  out: string;
  /** The fixed rate every episode is resampled onto, frames per second (a positive integer). Default 30. */
  fps?: number;
  /** What becomes `observation.state` and `action`, or a preset's name. Default `auto`: `arm` when the recording has joint targets (`/controller/joints`), or joint states and no pose; else `diff-drive`. */
  mapping?: LeRobotMapping | 'diff-drive' | 'arm' | 'auto';
  /** Replaces the mapping's `observation.state` fields (the CLI's `--state`). */
  state?: readonly LeRobotField[];
  /** Replaces the mapping's `action` fields (the CLI's `--action`). */
  action?: readonly LeRobotField[];
  /** The task of a file that has no episode marks (its whole length is one episode). Default `teleoperation`. */
  task?: string;
  /** Cameras to export by stream id. Default: every `/video/<stream>` channel of the recordings. */
  cameras?: readonly string[];
  /** Video: `auto` remuxes where the timing allows and re-encodes otherwise; `reencode` always re-encodes. Default `auto`. */
  video?: 'auto' | 'reencode';
  onProgress?: (p: ExportProgress) => void;
}

/** What {@link exportLeRobot} wrote. */
export interface LeRobotExportResult {
  out: string;
  fps: number;
  episodes: { index: number; task: string; frames: number; startMs: number }[];
  frames: number;
  state: string[];
  action: string[];
  /** Each camera, and whether its pictures were remuxed or re-encoded. */
  cameras: { key: string; mode: 'remux' | 're-encode'; width: number; height: number }[];
}

interface Episode {
  task: string;
  start: number;
  end: number;
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

/** Sample-and-hold of one field at the grid's ticks. */
function resample(
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

/**
 * Exports recordings made by `recorder()` as a LeRobot v3.0 dataset: one episode per recorded
 * episode (a file with no episode marks is one episode), each resampled onto a fixed fps grid —
 * `observation.state` and `action` by sample-and-hold as the mapping says, each camera's recorded
 * H.264 remuxed into MP4 where its timing matches the grid and re-encoded onto it otherwise.
 *
 * Writes `meta/info.json`, `meta/tasks.parquet`, `meta/episodes/chunk-000/file-000.parquet`,
 * `meta/stats.json`, `data/chunk-000/file-000.parquet` and
 * `videos/observation.images.<camera>/chunk-000/file-000.mp4`. Needs `ffmpeg` and `ffprobe` for video.
 *
 * @example
 * ```ts
 * import { exportLeRobot } from '@telekit/recorder';
 * const result = await exportLeRobot(['recordings/telekit-2026-12-01T07-00-00Z-0.mcap'], {
 *   out: 'datasets/pick-cube',
 *   fps: 30,
 * });
 * console.log(result.frames, result.cameras);
 * ```
 */
export async function exportLeRobot(
  files: readonly string[],
  options: LeRobotExportOptions,
): Promise<LeRobotExportResult> {
  const fps = options.fps ?? 30;
  if (!Number.isInteger(fps) || fps <= 0 || fps > 1000)
    throw new TelekitError('E_VALIDATION', 'fps must be a positive integer', {
      context: { field: 'fps', expected: 'an integer in 1..1000', received: String(fps) },
    });
  if (files.length === 0)
    throw new TelekitError('E_VALIDATION', 'no recording to export', {
      context: { field: 'files', expected: 'one or more .mcap files' },
    });
  const progress = options.onProgress ?? (() => undefined);
  const period = 1000 / fps;

  // 1. Read every file; episodes per file, messages merged in time.
  const episodeMap = new Map<string, Episode>();
  const byTopic = new Map<string, { t: number; json: unknown }[]>();
  for (const [i, file] of files.entries()) {
    progress({ stage: 'read', file, done: i, total: files.length });
    const rec = await readRecording(file);
    for (const [k, e] of episodesOf(rec.messages, options.task ?? 'teleoperation')) {
      const prev = episodeMap.get(k);
      episodeMap.set(k, prev ? { ...prev, end: Math.max(prev.end, e.end) } : e);
    }
    for (const m of rec.messages) {
      const list = byTopic.get(m.topic) ?? [];
      if (list.length === 0) byTopic.set(m.topic, list);
      list.push({ t: ms(m), json: m.json });
    }
  }
  progress({ stage: 'read', file: files[files.length - 1]!, done: files.length, total: files.length });
  for (const list of byTopic.values()) list.sort((a, b) => a.t - b.t);

  // Commands their actuator reported as not applied never become actions.
  const fates = new Map<string, string>();
  for (const a of byTopic.get('/telemetry/actuation') ?? []) {
    const r = a.json as { command: { topic: string; sender: string; seq: number }; fate: string };
    fates.set(`${r.command.topic}|${r.command.sender}|${r.command.seq}`, r.fate);
  }
  const acted = (topic: string) =>
    (byTopic.get(topic) ?? []).filter((s) => {
      const h = (s.json as { header?: { sender: string; seq: number } }).header;
      const fate = h ? fates.get(`${topic}|${h.sender}|${h.seq}`) : undefined;
      return fate === undefined || TELEKIT_FATE_OK.has(fate);
    });

  // 2. The mapping, resolved against what the recordings hold.
  const preset = options.mapping ?? 'auto';
  const base: LeRobotMapping =
    typeof preset !== 'string'
      ? preset
      : preset === 'arm' ||
          (preset === 'auto' &&
            (byTopic.has('/controller/joints') ||
              (byTopic.has('/telemetry/joint_state') && !byTopic.has('/telemetry/pose'))))
        ? ARM_MAPPING
        : DIFF_DRIVE_MAPPING;
  const mapping: LeRobotMapping = {
    ...base,
    state: options.state ?? base.state,
    action: options.action ?? base.action,
  };
  const stateTopics = (t: string) => (byTopic.get(t) ?? []).map((s) => s.json);
  const actionSamples = new Map<string, { t: number; json: unknown }[]>();
  const actionOf = (t: string) => {
    const cached = actionSamples.get(t);
    if (cached) return cached;
    const s = t.startsWith('/controller/') ? acted(t) : (byTopic.get(t) ?? []);
    actionSamples.set(t, s);
    return s;
  };
  const state = resolveFields(mapping.state, stateTopics, 'observation.state');
  const action = resolveFields(mapping.action, (t) => actionOf(t).map((s) => s.json), 'action');

  // 3. Episodes on the grid, in time order; tasks in order of first appearance.
  const episodes = [...episodeMap.values()]
    .filter((e) => e.end - e.start >= period)
    .sort((a, b) => a.start - b.start)
    .map((e) => ({ ...e, frames: Math.floor((e.end - e.start) / period) }));
  if (episodes.length === 0)
    throw new TelekitError('E_VALIDATION', 'the recordings hold no episode of at least one frame', {
      context: { field: 'files' },
    });
  const tasks: string[] = [];
  for (const e of episodes) if (!tasks.includes(e.task)) tasks.push(e.task);

  rmSync(options.out, { recursive: true, force: true });
  mkdirSync(join(options.out, 'meta'), { recursive: true });

  const rows = {
    state: [] as number[][],
    action: [] as number[][],
    timestamp: [] as number[],
    frame: [] as number[],
    episode: [] as number[],
    index: [] as number[],
    task: [] as number[],
  };
  const ranges: { from: number; to: number }[] = [];
  for (const [ei, e] of episodes.entries()) {
    const ticks = Array.from({ length: e.frames }, (_, k) => e.start + k * period);
    const cols = (fields: ResolvedField[], samplesOf: (t: string) => { t: number; json: unknown }[]) =>
      fields.map((f) => resample(f, samplesOf(f.topic), ticks, (t) => byTopic.get(t) ?? []));
    const s = cols(state, (t) => byTopic.get(t) ?? []);
    const a = cols(action, actionOf);
    const from = rows.index.length;
    for (let k = 0; k < e.frames; k++) {
      rows.state.push(s.map((c) => c[k]!));
      rows.action.push(a.map((c) => c[k]!));
      rows.timestamp.push(k / fps);
      rows.frame.push(k);
      rows.episode.push(ei);
      rows.index.push(from + k);
      rows.task.push(tasks.indexOf(e.task));
    }
    ranges.push({ from, to: rows.index.length });
  }
  progress({ stage: 'data', episodes: episodes.length, frames: rows.index.length });

  writeParquet(join(options.out, 'data/chunk-000/file-000.parquet'), [
    { name: 'observation.state', kind: 'list<float32>', data: rows.state },
    { name: 'action', kind: 'list<float32>', data: rows.action },
    { name: 'timestamp', kind: 'float32', data: rows.timestamp },
    { name: 'frame_index', kind: 'int64', data: rows.frame },
    { name: 'episode_index', kind: 'int64', data: rows.episode },
    { name: 'index', kind: 'int64', data: rows.index },
    { name: 'task_index', kind: 'int64', data: rows.task },
  ]);
  writeParquet(
    join(options.out, 'meta/tasks.parquet'),
    [
      { name: 'task_index', kind: 'int64', data: tasks.map((_, i) => i) },
      { name: 'task', kind: 'string', data: tasks },
    ],
    [pandasIndexMetadata('task', [{ name: 'task_index', pandasType: 'int64', numpyType: 'int64' }])],
  );

  // 4. Video, one MP4 per camera holding every episode one after another.
  const cameraIds = (
    options.cameras ??
    [...byTopic.keys()].filter((t) => t.startsWith('/video/')).map((t) => t.slice('/video/'.length))
  ).filter((id) => (byTopic.get(`/video/${id}`) ?? []).length > 0);
  const cameras: LeRobotExportResult['cameras'] = [];
  const videoMeta: Record<string, { from: number; to: number }[]> = {};
  const imageStats: Record<string, ImageStats[]> = {};
  for (const id of cameraIds) {
    const key = `observation.images.${id}`;
    const recorded = (byTopic.get(`/video/${id}`) ?? []).map((s) => {
      const v = s.json as { timestamp?: { sec: number; nsec: number }; data: string };
      const stamp = v.timestamp ? v.timestamp.sec * 1000 + v.timestamp.nsec / 1e6 : s.t;
      return { logged: s.t, stamp, data: new Uint8Array(Buffer.from(v.data, 'base64')) };
    });
    // A picture's own time (when the media plugin took it), unless its clock is not the recorder's
    // (more than a second apart): then when it was recorded.
    const skew = recorded.map((r) => Math.abs(r.stamp - r.logged)).sort((a, b) => a - b);
    const ownTime = (skew[skew.length >> 1] ?? 0) < 1000;
    const units: VideoUnit[] = recorded
      .map((r) => ({ t: ownTime ? r.stamp : r.logged, data: r.data, keyframe: isKeyframe(r.data) }))
      .sort((a, b) => a.t - b.t);
    const remux = options.video === 'reencode' ? [] : episodes.map((e) => planRemux(units, e, fps));
    const canRemux = remux.length > 0 && remux.every((p) => p !== undefined);
    const plans: EpisodeVideo[] = canRemux
      ? (remux as EpisodeVideo[])
      : episodes.map((e) => planReencode(units, e, fps));
    const mode = canRemux ? 'remux' : 're-encode';
    const file = join(options.out, `videos/${key}/chunk-000/file-000.mp4`);
    // Where each episode's frames lie in the file, in frames.
    const spans: { from: number; to: number }[] = [];
    let at = 0;
    for (const [ei, p] of plans.entries()) {
      const frames = episodes[ei]!.frames;
      const written = canRemux ? p.to - p.from + 1 : frames;
      spans.push({ from: at + p.preroll, to: at + p.preroll + frames });
      at += written;
    }
    let done = 0;
    const total = at;
    const tick = () => {
      done++;
      if (done % 30 === 0 || done === total) progress({ stage: 'video', camera: id, mode, done, total });
    };
    let size: { width: number; height: number };
    if (canRemux) {
      await remuxMp4(units, plans, fps, file, tick);
      size = await probeSize(file);
    } else size = await reencodeMp4(units, plans, fps, file, tick);
    cameras.push({ key, mode, ...size });
    videoMeta[key] = spans;
    progress({ stage: 'stats', camera: id });
    const minLen = Math.min(...episodes.map((e) => e.frames));
    const step = Math.max(1, Math.min(Math.floor(total / 2000), Math.floor(minLen / 5)));
    imageStats[key] = await mp4ImageStats(file, step, episodes.length, (n) =>
      spans.findIndex((s) => n >= s.from && n < s.to),
    );
  }

  // 5. Statistics, per episode and for the dataset.
  const scalar = (values: readonly number[]) => values.map((v) => [v]);
  const featureRows: Record<string, { rows: (e: number) => number[][]; width: number }> = {
    'observation.state': {
      rows: (e) => rows.state.slice(ranges[e]!.from, ranges[e]!.to),
      width: state.length,
    },
    action: { rows: (e) => rows.action.slice(ranges[e]!.from, ranges[e]!.to), width: action.length },
    timestamp: { rows: (e) => scalar(rows.timestamp.slice(ranges[e]!.from, ranges[e]!.to)), width: 1 },
    frame_index: { rows: (e) => scalar(rows.frame.slice(ranges[e]!.from, ranges[e]!.to)), width: 1 },
    episode_index: { rows: (e) => scalar(rows.episode.slice(ranges[e]!.from, ranges[e]!.to)), width: 1 },
    index: { rows: (e) => scalar(rows.index.slice(ranges[e]!.from, ranges[e]!.to)), width: 1 },
    task_index: { rows: (e) => scalar(rows.task.slice(ranges[e]!.from, ranges[e]!.to)), width: 1 },
  };
  const episodeStats = episodes.map((_, e) =>
    Object.fromEntries(Object.entries(featureRows).map(([k, f]) => [k, vectorStats(f.rows(e), f.width)])),
  );
  const datasetStats: Record<string, unknown> = Object.fromEntries(
    Object.entries(featureRows).map(([k, f]) => [
      k,
      vectorStats(
        episodes.flatMap((_, e) => f.rows(e)),
        f.width,
      ),
    ]),
  );
  for (const [key, per] of Object.entries(imageStats)) {
    const all = per.reduce((acc, s) => acc.merge(s));
    datasetStats[key] = all.result();
  }
  writeFileSync(join(options.out, 'meta/stats.json'), `${JSON.stringify(datasetStats, null, 2)}\n`);

  // 6. Episodes' metadata.
  const statNames = ['min', 'max', 'mean', 'std', 'count', 'q01', 'q10', 'q50', 'q90', 'q99'] as const;
  const epColumns: Column[] = [
    { name: 'episode_index', kind: 'int64', data: episodes.map((_, i) => i) },
    { name: 'tasks', kind: 'list<string>', data: episodes.map((e) => [e.task]) },
    { name: 'length', kind: 'int64', data: episodes.map((e) => e.frames) },
    { name: 'data/chunk_index', kind: 'int64', data: episodes.map(() => 0) },
    { name: 'data/file_index', kind: 'int64', data: episodes.map(() => 0) },
    { name: 'dataset_from_index', kind: 'int64', data: ranges.map((r) => r.from) },
    { name: 'dataset_to_index', kind: 'int64', data: ranges.map((r) => r.to) },
  ];
  for (const [key, spans] of Object.entries(videoMeta))
    epColumns.push(
      { name: `videos/${key}/chunk_index`, kind: 'int64', data: spans.map(() => 0) },
      { name: `videos/${key}/file_index`, kind: 'int64', data: spans.map(() => 0) },
      { name: `videos/${key}/from_timestamp`, kind: 'float64', data: spans.map((s) => s.from / fps) },
      { name: `videos/${key}/to_timestamp`, kind: 'float64', data: spans.map((s) => s.to / fps) },
    );
  for (const k of Object.keys(featureRows))
    for (const s of statNames)
      epColumns.push(
        s === 'count'
          ? { name: `stats/${k}/${s}`, kind: 'list<int64>', data: episodeStats.map((st) => st[k]!.count) }
          : {
              name: `stats/${k}/${s}`,
              kind: 'list<float64>',
              data: episodeStats.map((st) => (st[k] as FeatureStats)[s]),
            },
      );
  epColumns.push(
    { name: 'meta/episodes/chunk_index', kind: 'int64', data: episodes.map(() => 0) },
    { name: 'meta/episodes/file_index', kind: 'int64', data: episodes.map(() => 0) },
  );
  writeParquet(join(options.out, 'meta/episodes/chunk-000/file-000.parquet'), epColumns);

  // 7. info.json.
  const features: Record<string, unknown> = {
    'observation.state': { dtype: 'float32', shape: [state.length], names: state.map((f) => f.name) },
    action: { dtype: 'float32', shape: [action.length], names: action.map((f) => f.name) },
  };
  for (const c of cameras)
    features[c.key] = {
      dtype: 'video',
      shape: [c.height, c.width, 3],
      names: ['height', 'width', 'channels'],
      info: {
        'video.height': c.height,
        'video.width': c.width,
        'video.codec': 'h264',
        'video.pix_fmt': 'yuv420p',
        'video.fps': fps,
        'video.channels': 3,
        has_audio: false,
        is_depth_map: false,
      },
    };
  Object.assign(features, {
    timestamp: { dtype: 'float32', shape: [1], names: null },
    frame_index: { dtype: 'int64', shape: [1], names: null },
    episode_index: { dtype: 'int64', shape: [1], names: null },
    index: { dtype: 'int64', shape: [1], names: null },
    task_index: { dtype: 'int64', shape: [1], names: null },
  });
  const info = {
    codebase_version: 'v3.0',
    robot_type: mapping.robotType ?? null,
    total_episodes: episodes.length,
    total_frames: rows.index.length,
    total_tasks: tasks.length,
    chunks_size: 1000,
    data_files_size_in_mb: 100,
    video_files_size_in_mb: 200,
    fps,
    splits: { train: `0:${episodes.length}` },
    data_path: 'data/chunk-{chunk_index:03d}/file-{file_index:03d}.parquet',
    video_path: cameras.length
      ? 'videos/{video_key}/chunk-{chunk_index:03d}/file-{file_index:03d}.mp4'
      : null,
    features,
  };
  writeFileSync(join(options.out, 'meta/info.json'), `${JSON.stringify(info, null, 2)}\n`);
  progress({ stage: 'done', out: options.out });
  return {
    out: options.out,
    fps,
    episodes: episodes.map((e, i) => ({ index: i, task: e.task, frames: e.frames, startMs: e.start })),
    frames: rows.index.length,
    state: state.map((f) => f.name),
    action: action.map((f) => f.name),
    cameras,
  };
}
