import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { TelekitError } from '@telekit/core';
import { checkTask } from '../recorder-topics.js';
import { frameRows, gridEpisodes, resolveMapping, writeFrames } from './dataset-frames.js';
import { writeMeta } from './dataset-meta.js';
import { writeVideos } from './dataset-video.js';
import type { LeRobotField, LeRobotMapping } from './mapping.js';
import { readTimeline } from './timeline.js';

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
  /** The task of a file that has no episode marks (its whole length is one episode): one line, checked as `EpisodeTask` (`E_VALIDATION` naming `task` otherwise). Default `teleoperation`. */
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
  const task = options.task === undefined ? 'teleoperation' : checkTask(options.task);
  const progress = options.onProgress ?? (() => undefined);
  const period = 1000 / fps;

  // 1. Read every file; episodes per file, messages merged in time.
  const timeline = await readTimeline(files, task, (file, done) =>
    progress({ stage: 'read', file, done, total: files.length }),
  );
  const { byTopic } = timeline;

  // 2. The mapping, resolved against what the recordings hold.
  const resolved = resolveMapping(options, byTopic);
  const { state, action } = resolved;

  // 3. Episodes on the grid, in time order; tasks in order of first appearance.
  const episodes = gridEpisodes(timeline.episodes.values(), period);
  const tasks: string[] = [];
  for (const e of episodes) if (!tasks.includes(e.task)) tasks.push(e.task);

  rmSync(options.out, { recursive: true, force: true });
  mkdirSync(join(options.out, 'meta'), { recursive: true });

  const rows = frameRows(episodes, tasks, resolved, fps, byTopic);
  progress({ stage: 'data', episodes: episodes.length, frames: rows.index.length });
  writeFrames(options.out, rows, tasks);

  // 4. Video, one MP4 per camera holding every episode one after another.
  const videos = await writeVideos(
    {
      out: options.out,
      ...(options.cameras ? { cameras: options.cameras } : {}),
      ...(options.video ? { video: options.video } : {}),
      progress,
    },
    episodes,
    fps,
    byTopic,
  );

  // 5–7. Statistics, the episodes' metadata, info.json.
  writeMeta({
    out: options.out,
    fps,
    episodes,
    tasks,
    rows,
    state: state.map((f) => f.name),
    action: action.map((f) => f.name),
    robotType: resolved.mapping.robotType,
    videos,
  });
  progress({ stage: 'done', out: options.out });
  return {
    out: options.out,
    fps,
    episodes: episodes.map((e, i) => ({ index: i, task: e.task, frames: e.frames, startMs: e.start })),
    frames: rows.index.length,
    state: state.map((f) => f.name),
    action: action.map((f) => f.name),
    cameras: videos.cameras,
  };
}
