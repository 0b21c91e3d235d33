/**
 * The real `lerobot` package (PyPI, with PyTorch) loads the export of a recorded session offline:
 * `LeRobotDataset(repo_id, root=DIR)` with `HF_HUB_OFFLINE=1`, its lengths and fps, one frame's state
 * and action as the parquet holds them, and a camera frame decoded by lerobot's video backend against
 * ffmpeg's decode of the same frame. Skipped, saying why, unless `bash scripts/setup.sh --lerobot`
 * installed lerobot into .cache/telekit/lerobot-venv (Python >= 3.12, about 5.5 GB).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { missingRequirement } from '@telekit/testkit';
import { asyncBufferFromFile, parquetReadObjects } from 'hyparquet';
import { describe, expect, it } from 'vitest';
import { exportLeRobot } from '../src/index.js';
import { recordDrivingSession } from '../test/session.js';

const python = fileURLToPath(new URL('../../../.cache/telekit/lerobot-venv/bin/python', import.meta.url));
const has =
  existsSync(python) &&
  spawnSync(python, ['-c', 'import lerobot.datasets.lerobot_dataset'], { stdio: 'ignore' }).status === 0;
const reason = missingRequirement([
  { ok: has, need: `lerobot in ${python} (bash scripts/setup.sh --lerobot installs it, about 5.5 GB)` },
]);

const KEY = 'observation.images.front';

interface Loaded {
  len: number;
  num_frames: number;
  num_episodes: number;
  fps: number;
  camera_keys: string[];
  features: Record<string, { dtype: string; shape: number[] }>;
  tasks: string[];
  stats_keys: string[];
  frames: Record<
    '0' | 'last_of_first' | 'last',
    {
      state: number[];
      action: number[];
      timestamp: number;
      frame_index: number;
      episode_index: number;
      index: number;
      task: string;
      images: Record<string, { shape: number[]; dtype: string; min: number; max: number; mean: number }>;
    }
  >;
}

/** The mean of one frame of the MP4 (at `seconds`), decoded by ffmpeg to RGB, scaled to [0, 1]. */
function ffmpegFrameMean(mp4: string, seconds: number): number {
  const out = spawnSync(
    'ffmpeg',
    [
      '-v',
      'error',
      '-ss',
      seconds.toFixed(6),
      '-i',
      mp4,
      '-frames:v',
      '1',
      '-f',
      'rawvideo',
      '-pix_fmt',
      'rgb24',
      '-',
    ],
    { maxBuffer: 64 * 1024 * 1024 },
  ).stdout;
  let sum = 0;
  for (const b of out) sum += b;
  return sum / out.length / 255;
}

if (reason) {
  describe(`the real lerobot package loads the export (skipped: ${reason})`, () => {
    it.skip(`LeRobotDataset(repo_id, root=DIR) offline (skipped: ${reason})`, () => {});
  });
} else {
  describe('the real lerobot package loads the export', () => {
    it('LeRobotDataset(repo_id, root=DIR) offline: lengths, fps, a frame’s state and action, a decoded camera frame', {
      timeout: 300_000,
    }, async () => {
      const dir = mkdtempSync(join(tmpdir(), 'telekit-lerobot-load-'));
      try {
        const session = await recordDrivingSession(dir);
        const out = join(dir, 'dataset');
        const result = await exportLeRobot([session.file], { out, fps: 30 });
        const run = spawnSync(
          python,
          [fileURLToPath(new URL('./load_lerobot.py', import.meta.url)), out, 'telekit/driving'],
          {
            encoding: 'utf8',
            env: { ...process.env, HF_HUB_OFFLINE: '1', HF_HOME: join(dir, 'hf-home') },
            maxBuffer: 16 * 1024 * 1024,
          },
        );
        expect(run.status, run.stderr).toBe(0);
        const loaded = JSON.parse(run.stdout.trim().split('\n').pop()!) as Loaded;

        expect(loaded).toMatchObject({
          len: result.frames,
          num_frames: result.frames,
          num_episodes: 2,
          fps: 30,
          camera_keys: [KEY],
          tasks: session.tasks,
        });
        expect(loaded.features['observation.state']).toEqual({ dtype: 'float32', shape: [5] });
        expect(loaded.features.action).toEqual({ dtype: 'float32', shape: [2] });
        expect(loaded.features[KEY]).toEqual({ dtype: 'video', shape: [240, 320, 3] });
        expect(loaded.stats_keys).toEqual(expect.arrayContaining(['observation.state', 'action', KEY]));

        // A frame's state and action as the parquet holds them (read in Node by hyparquet).
        const rows = await parquetReadObjects({
          file: await asyncBufferFromFile(join(out, 'data/chunk-000/file-000.parquet')),
        });
        const firstLen = result.episodes[0]!.frames;
        for (const [name, i] of [
          ['0', 0],
          ['last_of_first', firstLen - 1],
          ['last', result.frames - 1],
        ] as const) {
          const frame = loaded.frames[name];
          expect(frame.index).toBe(i);
          expect(frame.state).toEqual(rows[i]!['observation.state']);
          expect(frame.action).toEqual(rows[i]!.action);
          expect(frame.timestamp).toBeCloseTo(Number(rows[i]!.frame_index) / 30, 5);
          expect(frame.task).toBe(session.tasks[Number(rows[i]!.episode_index)]);
        }
        expect(loaded.frames.last_of_first.action).toEqual([0.5, expect.closeTo(0.4, 6)]);
        expect(loaded.frames.last).toMatchObject({ episode_index: 1, action: [-0.25, 0] });

        // The camera frame lerobot decoded: channels first, in [0, 1], the same picture ffmpeg decodes there.
        const image = loaded.frames.last_of_first.images[KEY]!;
        expect(image).toMatchObject({ shape: [3, 240, 320], dtype: 'torch.float32' });
        expect(image.min).toBeGreaterThanOrEqual(0);
        expect(image.max).toBeLessThanOrEqual(1);
        const episodes = await parquetReadObjects({
          file: await asyncBufferFromFile(join(out, 'meta/episodes/chunk-000/file-000.parquet')),
        });
        const at = (episodes[0]![`videos/${KEY}/from_timestamp`] as number) + (firstLen - 1) / 30;
        const mp4 = join(out, `videos/${KEY}/chunk-000/file-000.mp4`);
        expect(image.mean).toBeCloseTo(ffmpegFrameMean(mp4, at), 2);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  });
}
