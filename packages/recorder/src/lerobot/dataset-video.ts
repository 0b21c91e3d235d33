/**
 * The dataset's pictures: one MP4 per camera holding every episode one after another — the recorded
 * H.264 remuxed where its timing matches the grid, re-encoded onto it otherwise — with where each
 * episode lies in it and its image statistics.
 */
import { join } from 'node:path';
import type { GridEpisode } from './dataset-frames.js';
import type { ImageStats } from './stats.js';
import type { Sample } from './timeline.js';
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

/** One camera as written. */
export interface CameraVideo {
  key: string;
  mode: 'remux' | 're-encode';
  width: number;
  height: number;
}

/** What {@link writeVideos} wrote: the cameras, each one's episode spans (frames) and image statistics. */
export interface Videos {
  cameras: CameraVideo[];
  spans: Record<string, { from: number; to: number }[]>;
  imageStats: Record<string, ImageStats[]>;
}

/** How the video goes, and who hears of it. */
export interface VideoOptions {
  out: string;
  /** Stream ids, or every `/video/<stream>` channel of the recordings. */
  cameras?: readonly string[];
  video?: 'auto' | 'reencode';
  progress(
    p:
      | { stage: 'video'; camera: string; mode: 'remux' | 're-encode'; done: number; total: number }
      | { stage: 'stats'; camera: string },
  ): void;
}

/** Writes `videos/observation.images.<camera>/chunk-000/file-000.mp4` for every camera with pictures. */
export async function writeVideos(
  options: VideoOptions,
  episodes: readonly GridEpisode[],
  fps: number,
  byTopic: ReadonlyMap<string, Sample[]>,
): Promise<Videos> {
  const progress = options.progress;
  const cameraIds = (
    options.cameras ??
    [...byTopic.keys()].filter((t) => t.startsWith('/video/')).map((t) => t.slice('/video/'.length))
  ).filter((id) => (byTopic.get(`/video/${id}`) ?? []).length > 0);
  const cameras: CameraVideo[] = [];
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
  return { cameras, spans: videoMeta, imageStats };
}
