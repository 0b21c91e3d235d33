/**
 * The LeRobot export of a real recorded session (the kinematic robot driven by twists, a camera
 * encoded by ffmpeg and tapped through mediasoup), read back independently: pyarrow reads every
 * parquet file (columns, Arrow types, row counts, the tasks' pandas index), ffprobe decodes the MP4
 * and lists its frames' timestamps. Skipped, saying why, where the project's `.venv` has no pyarrow
 * (`scripts/setup.sh` installs it).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { missingRequirement } from '@telekit/testkit';
import { probeH264 } from '@telekit/testkit/media';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../src/cli.js';
import { exportLeRobot, type LeRobotExportResult, McapFile, readRecording } from '../src/index.js';
import { type DrivingSession, recordDrivingSession } from '../test/session.js';

const python = fileURLToPath(new URL('../../../.venv/bin/python', import.meta.url));
const has =
  existsSync(python) && spawnSync(python, ['-c', 'import pyarrow'], { stdio: 'ignore' }).status === 0;
const reason = missingRequirement([{ ok: has, need: `pyarrow in ${python} (scripts/setup.sh installs it)` }]);

interface PyRead {
  files: Record<string, { columns: Record<string, string>; rows: number; index_columns: string[] }>;
  data: Record<string, unknown[]>;
  episodes: Record<string, unknown[]>;
  tasks: Record<string, unknown[]>;
}

function pyRead(dir: string): PyRead {
  const out = spawnSync(python, [fileURLToPath(new URL('./read_lerobot.py', import.meta.url)), dir], {
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  expect(out.stderr).toBe('');
  return JSON.parse(out.stdout) as PyRead;
}

/** The MP4's frames' presentation times (s), by ffprobe. */
function frameTimes(mp4: string): number[] {
  const out = spawnSync(
    'ffprobe',
    ['-v', 'error', '-select_streams', 'v:0', '-show_entries', 'frame=pts_time', '-of', 'csv=p=0', mp4],
    { encoding: 'utf8' },
  );
  return out.stdout
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => Number.parseFloat(l));
}

/** The MP4's H.264 as Annex B (ffmpeg, no re-encode), for probeH264. */
function annexB(mp4: string): Buffer {
  return spawnSync(
    'ffmpeg',
    ['-v', 'error', '-i', mp4, '-c', 'copy', '-bsf:v', 'h264_mp4toannexb', '-f', 'h264', '-'],
    {
      maxBuffer: 256 * 1024 * 1024,
    },
  ).stdout;
}

const KEY = 'observation.images.front';

if (reason) {
  describe(`the LeRobot export read by pyarrow and ffprobe (skipped: ${reason})`, () => {
    it.skip(`reads every parquet file and decodes the mp4 (skipped: ${reason})`, () => {});
  });
} else {
  describe('the LeRobot export of a recorded session, read by pyarrow and ffprobe', () => {
    const dir = mkdtempSync(join(tmpdir(), 'telekit-lerobot-'));
    let session: DrivingSession;
    let result: LeRobotExportResult;
    beforeAll(async () => {
      session = await recordDrivingSession(dir);
      result = await exportLeRobot([session.file], { out: join(dir, 'auto'), fps: 30 });
    }, 180_000);
    afterAll(() => rmSync(dir, { recursive: true, force: true }));

    it('writes every parquet file with the columns, types and row counts LeRobot v3.0 reads', () => {
      const py = pyRead(join(dir, 'auto'));
      const frames = result.frames;
      expect(result.episodes.map((e) => e.task)).toEqual(session.tasks);
      expect(Object.keys(py.files).sort()).toEqual([
        'data/chunk-000/file-000.parquet',
        'meta/episodes/chunk-000/file-000.parquet',
        'meta/tasks.parquet',
      ]);
      const data = py.files['data/chunk-000/file-000.parquet']!;
      expect(data.rows).toBe(frames);
      expect(data.columns).toEqual({
        'observation.state': 'list<element: float not null>',
        action: 'list<element: float not null>',
        timestamp: 'float',
        frame_index: 'int64',
        episode_index: 'int64',
        index: 'int64',
        task_index: 'int64',
      });
      // The diff-drive default: pose x, y, yaw and the pose's velocities; the twist's linear.x, angular.z.
      expect(result.state).toEqual(['x', 'y', 'yaw', 'linear.x', 'angular.z']);
      expect(result.action).toEqual(['linear.x', 'angular.z']);
      for (const row of py.data['observation.state']!) expect(row).toHaveLength(5);
      expect(py.data.index).toEqual(Array.from({ length: frames }, (_, i) => i));
      const first = result.episodes[0]!.frames;
      expect(py.data.frame_index!.slice(0, first)).toEqual(Array.from({ length: first }, (_, i) => i));
      expect(py.data.episode_index).toEqual(result.episodes.flatMap((e, i) => Array(e.frames).fill(i)));
      expect(py.data.task_index).toEqual(result.episodes.flatMap((e, i) => Array(e.frames).fill(i)));
      // The operator drove forward and turned in episode 0, backed up in episode 1: the held twist.
      const action = py.data.action as number[][];
      expect(action[first - 1]).toEqual([0.5, expect.closeTo(0.4, 6)]);
      expect(action[frames - 1]).toEqual([-0.25, 0]);
      // The robot moved forward in episode 0.
      const state = py.data['observation.state'] as number[][];
      expect(state[first - 1]![0]!).toBeGreaterThan(state[0]![0]!);

      const episodes = py.files['meta/episodes/chunk-000/file-000.parquet']!;
      expect(episodes.rows).toBe(2);
      expect(episodes.columns).toMatchObject({
        episode_index: 'int64',
        tasks: 'list<element: string not null>',
        length: 'int64',
        'data/chunk_index': 'int64',
        'data/file_index': 'int64',
        dataset_from_index: 'int64',
        dataset_to_index: 'int64',
        [`videos/${KEY}/chunk_index`]: 'int64',
        [`videos/${KEY}/file_index`]: 'int64',
        [`videos/${KEY}/from_timestamp`]: 'double',
        [`videos/${KEY}/to_timestamp`]: 'double',
        'meta/episodes/chunk_index': 'int64',
        'meta/episodes/file_index': 'int64',
        'stats/observation.state/mean': 'list<element: double not null>',
        'stats/action/count': 'list<element: int64 not null>',
      });
      expect(py.episodes.tasks).toEqual(session.tasks.map((t) => [t]));
      expect(py.episodes.length).toEqual(result.episodes.map((e) => e.frames));
      const tasks = py.files['meta/tasks.parquet']!;
      expect(tasks).toMatchObject({ rows: 2, index_columns: ['task'] });
      expect(py.tasks).toEqual({ task_index: [0, 1], task: session.tasks });

      const info = JSON.parse(readFileSync(join(dir, 'auto/meta/info.json'), 'utf8'));
      expect(info).toMatchObject({
        codebase_version: 'v3.0',
        fps: 30,
        total_episodes: 2,
        total_frames: frames,
      });
      expect(info.features[KEY]).toMatchObject({ dtype: 'video', shape: [240, 320, 3] });
      const stats = JSON.parse(readFileSync(join(dir, 'auto/meta/stats.json'), 'utf8'));
      expect(stats[KEY].mean).toHaveLength(3);
      expect(stats[KEY].mean[0][0][0]).toBeGreaterThan(0);
      expect(stats['observation.state'].count).toEqual([frames]);
    });

    /** LeRobot finds a frame within 1e-4 s of each episode's frame times in the MP4, and ffprobe decodes them all. */
    async function expectFramesOnTheGrid(out: string, episodes: readonly { frames: number }[], fps: number) {
      const mp4 = join(out, `videos/${KEY}/chunk-000/file-000.mp4`);
      const times = frameTimes(mp4);
      const py = pyRead(out);
      const from = py.episodes[`videos/${KEY}/from_timestamp`] as number[];
      const to = py.episodes[`videos/${KEY}/to_timestamp`] as number[];
      for (const [e, ep] of episodes.entries()) {
        expect(to[e]! - from[e]!).toBeCloseTo(ep.frames / fps, 9);
        for (let k = 0; k < ep.frames; k++) {
          const t = from[e]! + k / fps;
          expect(Math.min(...times.map((x) => Math.abs(x - t)))).toBeLessThan(1e-4);
        }
      }
      const probed = await probeH264(annexB(mp4));
      expect(probed).toMatchObject({ width: 320, height: 240, frames: times.length });
      return times;
    }

    it("puts the camera's pictures on the grid (remuxed where the arrival timing allows, else re-encoded)", async () => {
      expect(result.cameras).toEqual([
        { key: KEY, mode: expect.stringMatching(/^(remux|re-encode)$/), width: 320, height: 240 },
      ]);
      await expectFramesOnTheGrid(join(dir, 'auto'), result.episodes, 30);
    });

    it('remuxes pictures that came at the grid rate: the recorded access units as they are, no re-encode', async () => {
      // The same recording with its pictures stamped at exactly 30 fps from the first one.
      const rec = await readRecording(session.file);
      const regular = join(dir, 'regular.mcap');
      const file = await McapFile.create(regular, { chunkSize: 256 * 1024, zstdLevel: 1 });
      let n = 0;
      let t0 = 0;
      for (const m of rec.messages) {
        const channel = { topic: m.topic, ...rec.channels.get(m.topic)! };
        let json = m.json as Record<string, unknown>;
        if (m.topic === '/video/front') {
          const ts = json.timestamp as { sec: number; nsec: number };
          if (n === 0) t0 = ts.sec * 1000 + ts.nsec / 1e6;
          const t = t0 + (n++ * 1000) / 30;
          const sec = Math.floor(t / 1000);
          json = { ...json, timestamp: { sec, nsec: Math.round((t - sec * 1000) * 1e6) } };
        }
        await file.write(channel, m.logTime, json);
      }
      await file.close();
      const out = join(dir, 'regular');
      const remuxed = await exportLeRobot([regular], { out, fps: 30 });
      expect(remuxed.cameras).toEqual([{ key: KEY, mode: 'remux', width: 320, height: 240 }]);
      const times = await expectFramesOnTheGrid(out, remuxed.episodes, 30);
      // Every recorded picture from the keyframe before each episode to its end, none made anew.
      expect(times.length).toBeGreaterThanOrEqual(remuxed.frames);
      expect(times.length).toBeLessThan(remuxed.frames + 2 * 30);
    });

    it('re-encodes onto the grid when asked (telekit export lerobot --reencode): one frame per row, decodable', async () => {
      const out = join(dir, 'reencoded');
      const code = await runCli([
        'export',
        'lerobot',
        session.file,
        '--out',
        out,
        '--fps',
        '15',
        '--reencode',
        '--quiet',
      ]);
      expect(code).toBe(0);
      const py = pyRead(out);
      const rows = py.files['data/chunk-000/file-000.parquet']!.rows;
      const mp4 = join(out, `videos/${KEY}/chunk-000/file-000.mp4`);
      const times = frameTimes(mp4);
      expect(times).toHaveLength(rows);
      for (const [i, t] of times.entries()) expect(Math.abs(t - i / 15)).toBeLessThan(1e-4);
      expect(py.episodes[`videos/${KEY}/from_timestamp`]).toEqual([
        0,
        (py.episodes.length as number[])[0]! / 15,
      ]);
      const probed = await probeH264(annexB(mp4));
      expect(probed).toMatchObject({ width: 320, height: 240, frames: rows });
    });
  });
}
