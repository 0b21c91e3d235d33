/**
 * The dataset's frames: the mapping chosen and resolved against the recordings, the episodes laid on
 * the fps grid, `observation.state` and `action` resampled at every tick, and the tables that hold
 * them (`data/chunk-000/file-000.parquet`, `meta/tasks.parquet`).
 */
import { join } from 'node:path';
import { TelekitError } from '@telekit/core';
import {
  ARM_MAPPING,
  DIFF_DRIVE_MAPPING,
  type LeRobotField,
  type LeRobotMapping,
  type ResolvedField,
  resolveFields,
} from './mapping.js';
import { pandasIndexMetadata, writeParquet } from './parquet.js';
import { actedOn, type Episode, resample, type Sample } from './timeline.js';

/** An episode on the grid: how many frames it has. */
export interface GridEpisode extends Episode {
  frames: number;
}

/** The mapping the options chose, its fields resolved, and the samples each action field reads. */
export interface ResolvedMapping {
  mapping: LeRobotMapping;
  state: ResolvedField[];
  action: ResolvedField[];
  /** An action topic's samples: a command topic's only those acted on. */
  actionOf(topic: string): Sample[];
}

/** The frames' columns, one entry per frame, and each episode's range of frames. */
export interface FrameRows {
  state: number[][];
  action: number[][];
  timestamp: number[];
  frame: number[];
  episode: number[];
  index: number[];
  task: number[];
  ranges: { from: number; to: number }[];
}

/**
 * The mapping: the one given, or a preset — `arm` when the recording has joint targets
 * (`/controller/joints`), or joint states and no pose; else `diff-drive` — with `state` and
 * `action` replaced when given; resolved against what the recordings hold.
 */
export function resolveMapping(
  options: {
    mapping?: LeRobotMapping | 'diff-drive' | 'arm' | 'auto';
    state?: readonly LeRobotField[];
    action?: readonly LeRobotField[];
  },
  byTopic: ReadonlyMap<string, Sample[]>,
): ResolvedMapping {
  const acted = actedOn(byTopic);
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
  const actionSamples = new Map<string, Sample[]>();
  const actionOf = (t: string) => {
    const cached = actionSamples.get(t);
    if (cached) return cached;
    const s = t.startsWith('/controller/') ? acted(t) : (byTopic.get(t) ?? []);
    actionSamples.set(t, s);
    return s;
  };
  const state = resolveFields(mapping.state, stateTopics, 'observation.state');
  const action = resolveFields(mapping.action, (t) => actionOf(t).map((s) => s.json), 'action');
  return { mapping, state, action, actionOf };
}

/** Episodes of at least one frame on the grid, in time order; an error when there is none. */
export function gridEpisodes(episodes: Iterable<Episode>, period: number): GridEpisode[] {
  const out = [...episodes]
    .filter((e) => e.end - e.start >= period)
    .sort((a, b) => a.start - b.start)
    .map((e) => ({ ...e, frames: Math.floor((e.end - e.start) / period) }));
  if (out.length === 0)
    throw new TelekitError('E_VALIDATION', 'the recordings hold no episode of at least one frame', {
      context: { field: 'files' },
    });
  return out;
}

/** Every episode's frames, one after another: each field sampled and held at every tick. */
export function frameRows(
  episodes: readonly GridEpisode[],
  tasks: readonly string[],
  resolved: ResolvedMapping,
  fps: number,
  byTopic: ReadonlyMap<string, Sample[]>,
): FrameRows {
  const period = 1000 / fps;
  const { state, action, actionOf } = resolved;
  const rows: FrameRows = {
    state: [],
    action: [],
    timestamp: [],
    frame: [],
    episode: [],
    index: [],
    task: [],
    ranges: [],
  };
  for (const [ei, e] of episodes.entries()) {
    const ticks = Array.from({ length: e.frames }, (_, k) => e.start + k * period);
    const cols = (fields: ResolvedField[], samplesOf: (t: string) => Sample[]) =>
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
    rows.ranges.push({ from, to: rows.index.length });
  }
  return rows;
}

/** Writes `data/chunk-000/file-000.parquet` and `meta/tasks.parquet`. */
export function writeFrames(out: string, rows: FrameRows, tasks: readonly string[]): void {
  writeParquet(join(out, 'data/chunk-000/file-000.parquet'), [
    { name: 'observation.state', kind: 'list<float32>', data: rows.state },
    { name: 'action', kind: 'list<float32>', data: rows.action },
    { name: 'timestamp', kind: 'float32', data: rows.timestamp },
    { name: 'frame_index', kind: 'int64', data: rows.frame },
    { name: 'episode_index', kind: 'int64', data: rows.episode },
    { name: 'index', kind: 'int64', data: rows.index },
    { name: 'task_index', kind: 'int64', data: rows.task },
  ]);
  writeParquet(
    join(out, 'meta/tasks.parquet'),
    [
      { name: 'task_index', kind: 'int64', data: tasks.map((_, i) => i) },
      { name: 'task', kind: 'string', data: [...tasks] },
    ],
    [pandasIndexMetadata('task', [{ name: 'task_index', pandasType: 'int64', numpyType: 'int64' }])],
  );
}
