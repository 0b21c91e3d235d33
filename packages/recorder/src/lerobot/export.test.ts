import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Topics } from '@telekit/core';
import { asyncBufferFromFile, parquetReadObjects } from 'hyparquet';
import { afterAll, describe, expect, it } from 'vitest';
import { McapFile } from '../mcap-file.js';
import { EPISODE_CHANNEL, topicChannel } from '../schemas.js';
import { exportLeRobot } from './export.js';
import { runExportCli } from './export-cli.js';

const dir = mkdtempSync(join(tmpdir(), 'telekit-lerobot-unit-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const ns = (ms: number) => BigInt(Math.round(ms * 1e6));
const T0 = 1_800_000_000_000;
const header = (seq: number, stamp: number, sender = 'robot') => ({ seq, stamp, sender });
const yawQuat = (yaw: number) => ({ x: 0, y: 0, z: Math.sin(yaw / 2), w: Math.cos(yaw / 2) });
const read = async (file: string) => parquetReadObjects({ file: await asyncBufferFromFile(file) });

/**
 * A diff-drive recording without video, made with the recorder's own writer: the pose at 50 Hz
 * (x = t in s, yaw = t/10), twists at 0.3 s (applied), 0.5 s (refused by the robot) and 0.8 s
 * (applied), and two episodes: 0.1–1.1 s "go" and 1.5–2.0 s "stop".
 */
async function recording(path: string, episodes: boolean): Promise<void> {
  const file = await McapFile.create(path, { chunkSize: 64 * 1024, zstdLevel: 1 });
  const pose = topicChannel(Topics.pose);
  const twist = topicChannel(Topics.twist);
  const actuation = topicChannel(Topics.actuation);
  const entries: [number, () => Promise<void>][] = [];
  for (let k = 0; k <= 110; k++) {
    const t = k * 20;
    entries.push([
      t,
      () =>
        file.write(pose, ns(T0 + t), {
          header: header(k, T0 + t),
          frame: 'odom',
          position: { x: t / 1000, y: 0, z: 0 },
          orientation: yawQuat(t / 10_000),
        }),
    ]);
  }
  const cmds: [number, number, string][] = [
    [300, 0.5, 'applied'],
    [500, 9, 'refused'],
    [800, -0.2, 'applied'],
  ];
  for (const [i, [t, v, fate]] of cmds.entries()) {
    const h = header(i, T0 + t, 'op');
    entries.push([
      t,
      () =>
        file.write(twist, ns(T0 + t), {
          header: h,
          linear: { x: v, y: 0, z: 0 },
          angular: { x: 0, y: 0, z: v / 2 },
        }),
    ]);
    entries.push([
      t + 1,
      () =>
        file.write(actuation, ns(T0 + t + 1), {
          header: header(100 + i, T0 + t + 1),
          command: { topic: '/controller/twist', sender: 'op', seq: i, stamp: T0 + t },
          actuatedAt: T0 + t + 1,
          fate,
        }),
    ]);
  }
  if (episodes)
    for (const [index, task, start, stop] of [
      [0, 'go', 100, 1100],
      [1, 'stop', 1500, 2000],
    ] as const) {
      const e = { index, task, startedAt: T0 + start };
      entries.push([start, () => file.write(EPISODE_CHANNEL, ns(T0 + start), { event: 'start', ...e })]);
      entries.push([
        stop,
        () => file.write(EPISODE_CHANNEL, ns(T0 + stop), { event: 'stop', ...e, stoppedAt: T0 + stop }),
      ]);
    }
  entries.sort((a, b) => a[0] - b[0]);
  for (const [, write] of entries) await write();
  await file.close();
}

describe('the LeRobot export of a recording', () => {
  it('resamples each episode onto the fps grid: the pose held, the last applied twist held, refused ones left out', async () => {
    const mcap = join(dir, 'marked.mcap');
    await recording(mcap, true);
    const out = join(dir, 'ds');
    const stages: string[] = [];
    const result = await exportLeRobot([mcap], { out, fps: 10, onProgress: (p) => stages.push(p.stage) });
    expect(stages).toEqual(['read', 'read', 'data', 'done']);
    expect(result).toMatchObject({
      fps: 10,
      frames: 15,
      state: ['x', 'y', 'yaw'],
      action: ['linear.x', 'angular.z'],
      cameras: [],
      episodes: [
        { index: 0, task: 'go', frames: 10 },
        { index: 1, task: 'stop', frames: 5 },
      ],
    });
    const rows = await read(join(out, 'data/chunk-000/file-000.parquet'));
    expect(rows).toHaveLength(15);
    // Episode 0's ticks are at 0.1, 0.2 … 1.0 s: the pose sampled at or before each; the twist of 0.3 s
    // from tick 0.3 on, the refused one of 0.5 s never, the one of 0.8 s from 0.8 on.
    const ep0 = rows.slice(0, 10);
    expect(ep0.map((r) => Number(r.frame_index))).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(ep0.map((r) => r.timestamp)).toEqual(ep0.map((_, k) => Math.fround(k / 10)));
    for (const [k, r] of ep0.entries()) {
      const [x, , yaw] = r['observation.state'] as number[];
      expect(x).toBeCloseTo(0.1 + k / 10, 5);
      expect(yaw).toBeCloseTo((0.1 + k / 10) / 10, 5);
    }
    expect(ep0.map((r) => (r.action as number[])[0])).toEqual([
      0,
      0,
      0.5,
      0.5,
      0.5,
      0.5,
      0.5,
      Math.fround(-0.2),
      Math.fround(-0.2),
      Math.fround(-0.2),
    ]);
    // Episode 1 (1.5–2.0 s): the last applied twist still holds; the pose stops at 2.2 s of recording.
    const ep1 = rows.slice(10);
    expect(ep1.map((r) => Number(r.episode_index))).toEqual([1, 1, 1, 1, 1]);
    expect(ep1.map((r) => Number(r.index))).toEqual([10, 11, 12, 13, 14]);
    expect(ep1.map((r) => Number(r.task_index))).toEqual([1, 1, 1, 1, 1]);
    expect((ep1[0]!.action as number[])[0]).toBeCloseTo(-0.2, 6);
    expect((ep1[0]!['observation.state'] as number[])[0]).toBeCloseTo(1.5, 5);

    const episodes = await read(join(out, 'meta/episodes/chunk-000/file-000.parquet'));
    expect(episodes.map((e) => [Number(e.episode_index), e.tasks, Number(e.length)])).toEqual([
      [0, ['go'], 10],
      [1, ['stop'], 5],
    ]);
    expect(episodes.map((e) => [Number(e.dataset_from_index), Number(e.dataset_to_index)])).toEqual([
      [0, 10],
      [10, 15],
    ]);
    const tasks = await read(join(out, 'meta/tasks.parquet'));
    expect(tasks.map((t) => [t.task, Number(t.task_index)])).toEqual([
      ['go', 0],
      ['stop', 1],
    ]);
    const info = JSON.parse(readFileSync(join(out, 'meta/info.json'), 'utf8'));
    expect(info).toMatchObject({
      codebase_version: 'v3.0',
      fps: 10,
      total_episodes: 2,
      total_frames: 15,
      total_tasks: 2,
      video_path: null,
    });
    expect(info.features['observation.state']).toEqual({
      dtype: 'float32',
      shape: [3],
      names: ['x', 'y', 'yaw'],
    });
    const stats = JSON.parse(readFileSync(join(out, 'meta/stats.json'), 'utf8'));
    expect(stats.action.count).toEqual([15]);
    expect(stats.action.min[0]).toBeCloseTo(-0.2, 6);
    expect(stats.action.max[0]).toBe(0.5);
    expect(stats['observation.state'].mean).toHaveLength(3);
  });

  it('exports a file without episode marks as one episode with the given task, through the CLI', async () => {
    const mcap = join(dir, 'unmarked.mcap');
    await recording(mcap, false);
    const out = join(dir, 'ds-cli');
    const code = await runExportCli(
      [
        'lerobot',
        mcap,
        '--out',
        out,
        '--fps',
        '20',
        '--task',
        'free driving',
        '--quiet',
        '--state',
        'x=/telemetry/pose:position.x',
      ],
      'usage',
    );
    expect(code).toBe(0);
    const rows = await read(join(out, 'data/chunk-000/file-000.parquet'));
    // The file spans 0–2.2 s: 44 frames at 20 fps.
    expect(rows).toHaveLength(44);
    // The last tick, 2.15 s, holds the pose of 2.14 s.
    expect((rows[43]!['observation.state'] as number[])[0]).toBeCloseTo(2.14, 5);
    const tasks = await read(join(out, 'meta/tasks.parquet'));
    expect(tasks.map((t) => t.task)).toEqual(['free driving']);
  });

  it('maps an arm by default when the recording has joint targets: joint positions, joint targets held per joint', async () => {
    const mcap = join(dir, 'arm.mcap');
    const file = await McapFile.create(mcap, { chunkSize: 64 * 1024, zstdLevel: 1 });
    const js = topicChannel(Topics.jointState);
    const cmd = topicChannel(Topics.joints);
    for (let k = 0; k <= 50; k++)
      await file.write(js, ns(T0 + k * 20), {
        header: header(k, T0 + k * 20),
        name: ['shoulder', 'elbow'],
        position: [k / 100, -k / 100],
      });
    // Targets for the shoulder alone at 0.2 s, then for both at 0.6 s.
    await file.write(cmd, ns(T0 + 200), {
      header: header(0, T0 + 200, 'op'),
      name: ['shoulder'],
      position: [1],
    });
    await file.write(cmd, ns(T0 + 600), {
      header: header(1, T0 + 600, 'op'),
      name: ['shoulder', 'elbow'],
      position: [2, 3],
    });
    await file.close();
    const result = await exportLeRobot([mcap], { out: join(dir, 'ds-arm'), fps: 10 });
    expect(result).toMatchObject({
      state: ['shoulder.position', 'elbow.position'],
      action: ['shoulder.position', 'elbow.position'],
      frames: 10,
    });
    const rows = await read(join(dir, 'ds-arm/data/chunk-000/file-000.parquet'));
    // Ticks at 0, 0.1 … 0.9 s; the elbow's measured position (−t/2 per s) until its first target.
    expect(rows.map((r) => r.action)).toEqual([
      [0, 0],
      [Math.fround(0.05), Math.fround(-0.05)],
      [1, Math.fround(-0.1)],
      [1, Math.fround(-0.15)],
      [1, Math.fround(-0.2)],
      [1, Math.fround(-0.25)],
      [2, 3],
      [2, 3],
      [2, 3],
      [2, 3],
    ]);
    const info = JSON.parse(readFileSync(join(dir, 'ds-arm/meta/info.json'), 'utf8'));
    expect(info.robot_type).toBe('telekit-arm');
  });

  it('says what is wrong with the command line', async () => {
    expect(await runExportCli(['lerobot', 'a.mcap'], 'usage')).toBe(2);
    expect(await runExportCli(['csv', 'a.mcap', '--out', 'x'], 'usage')).toBe(2);
    expect(await runExportCli(['lerobot', 'a.mcap', '--out', 'x', '--preset', 'boat'], 'usage')).toBe(2);
    await expect(exportLeRobot(['a.mcap'], { out: join(dir, 'x'), fps: 29.97 })).rejects.toThrow(
      /fps must be a positive integer/,
    );
    // The task names a dataset row: one line, as every door that takes a task has it.
    await expect(
      exportLeRobot(['a.mcap'], { out: join(dir, 'x'), task: 'pick\nplace' }),
    ).rejects.toMatchObject({
      code: 'E_VALIDATION',
      context: { field: 'task' },
      message: expect.stringMatching(/^task: expected one line of text without control characters/),
    });
  });
});
