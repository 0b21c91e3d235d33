/**
 * The dataset's metadata: the statistics of every feature per episode and for the whole dataset
 * (`meta/stats.json`), the episodes' table with where each lies in the data and the videos and its
 * statistics (`meta/episodes/chunk-000/file-000.parquet`), and `meta/info.json`.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FrameRows, GridEpisode } from './dataset-frames.js';
import type { Videos } from './dataset-video.js';
import { type Column, writeParquet } from './parquet.js';
import { type FeatureStats, vectorStats } from './stats.js';

/** What the metadata describes. */
export interface DatasetMeta {
  out: string;
  fps: number;
  episodes: readonly GridEpisode[];
  tasks: readonly string[];
  rows: FrameRows;
  /** The names of `observation.state`'s and `action`'s numbers. */
  state: readonly string[];
  action: readonly string[];
  robotType: string | undefined;
  videos: Videos;
}

/** Each episode's statistics, by feature (in the features' order). */
interface EpisodeStats {
  features: string[];
  perEpisode: Record<string, FeatureStats>[];
}

/** Writes `meta/stats.json`, the episodes' table and `meta/info.json`. */
export function writeMeta(meta: DatasetMeta): void {
  writeEpisodes(meta, writeStats(meta));
  writeInfo(meta);
}

/** Statistics, per episode and for the dataset: writes the dataset's, returns the episodes'. */
function writeStats(meta: DatasetMeta): EpisodeStats {
  const { rows, episodes, state, action } = meta;
  const { ranges } = rows;
  const imageStats = meta.videos.imageStats;
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
  writeFileSync(join(meta.out, 'meta/stats.json'), `${JSON.stringify(datasetStats, null, 2)}\n`);
  return { features: Object.keys(featureRows), perEpisode: episodeStats };
}

/** The episodes' table: each one's task, length, range of frames and of video, and statistics. */
function writeEpisodes(meta: DatasetMeta, stats: EpisodeStats): void {
  const { episodes, fps } = meta;
  const ranges = meta.rows.ranges;
  const videoMeta = meta.videos.spans;
  const episodeStats = stats.perEpisode;
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
  for (const k of stats.features)
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
  writeParquet(join(meta.out, 'meta/episodes/chunk-000/file-000.parquet'), epColumns);
}

/** `meta/info.json`: the dataset's shape, its features and where its files are. */
function writeInfo(meta: DatasetMeta): void {
  const { episodes, fps, state, action, tasks } = meta;
  const cameras = meta.videos.cameras;
  const features: Record<string, unknown> = {
    'observation.state': { dtype: 'float32', shape: [state.length], names: [...state] },
    action: { dtype: 'float32', shape: [action.length], names: [...action] },
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
    robot_type: meta.robotType ?? null,
    total_episodes: episodes.length,
    total_frames: meta.rows.index.length,
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
  writeFileSync(join(meta.out, 'meta/info.json'), `${JSON.stringify(info, null, 2)}\n`);
}
