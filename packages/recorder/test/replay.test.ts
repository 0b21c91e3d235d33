import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createApp, inProcess, type Pose, silentLogger, Topics } from '@telekit/core';
import { afterAll, beforeAll, expect, it, vi } from 'vitest';
import { createReplay, RecorderToken, ReplayToken, readRecording, recorder, replay } from '../src/index.js';
import { kinematicRobot } from './robot.js';

const dir = mkdtempSync(join(tmpdir(), 'telekit-replay-'));
let file = '';
let recordedPoses: number[] = [];

// A second of the kinematic robot driving, recorded once for the replay tests.
beforeAll(async () => {
  const app = createApp({
    logger: silentLogger,
    plugins: [inProcess(), kinematicRobot(), recorder({ dir })],
  });
  await app.start();
  const rec = app.resolve(RecorderToken);
  for (let seq = 0; seq < 40; seq++) {
    app.transport.publish(Topics.twist, {
      header: { seq, stamp: Date.now(), sender: 'operator' },
      linear: { x: 0.5, y: 0, z: 0 },
      angular: { x: 0, y: 0, z: 0.5 },
    });
    await new Promise((r) => setTimeout(r, 25));
  }
  file = rec.status().file!;
  await app.stop();
  recordedPoses = (await readRecording(file)).messages
    .filter((m) => m.topic === '/telemetry/pose')
    .map((m) => (m.json as Pose).header.seq);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

it('plays the recorded telemetry back onto an app at 10×, in order, restamped, and no command', async () => {
  const app = createApp({
    logger: silentLogger,
    plugins: [inProcess(), replay(file, { speed: 10, paused: true })],
  });
  await app.start();
  try {
    const poses: Pose[] = [];
    const twists: unknown[] = [];
    app.transport.subscribe(Topics.pose, { depth: 1024 }).subscribe((p) => poses.push(p));
    app.transport.subscribe(Topics.twist).subscribe((t) => twists.push(t));
    const r = app.resolve(ReplayToken);
    const t0 = Date.now();
    r.play();
    await r.ended;
    // Delivery is asynchronous: wait for the last one.
    await vi.waitFor(() => expect(poses.at(-1)?.header.seq).toBe(recordedPoses.at(-1)));
    expect(recordedPoses.length).toBeGreaterThan(10);
    expect(poses.map((p) => p.header.seq)).toEqual(recordedPoses);
    expect(poses.every((p) => p.header.stamp >= t0)).toBe(true);
    expect(twists).toEqual([]);
  } finally {
    await app.stop();
  }
});

it('pauses, seeks and changes speed', async () => {
  const recording = await readRecording(file);
  const app = createApp({ logger: silentLogger, plugins: [inProcess()] });
  await app.start();
  try {
    const seen: number[] = [];
    app.transport.subscribe(Topics.pose, { depth: 1024 }).subscribe((p) => seen.push(p.header.seq));
    const r = createReplay(recording.messages, app.transport, { paused: true });
    expect(r.playing).toBe(false);
    r.seek(r.durationMs / 2);
    expect(r.position()).toBe(r.durationMs / 2);
    r.setSpeed(20);
    r.play();
    await r.ended;
    await vi.waitFor(() => expect(seen.at(-1)).toBe(recordedPoses.at(-1)));
    // From the middle on only: the second half of the poses.
    expect(seen.length).toBeGreaterThan(0);
    expect(seen.length).toBeLessThan(recordedPoses.length);
    expect(seen).toEqual(recordedPoses.slice(recordedPoses.length - seen.length));
    expect(r.position()).toBe(r.durationMs);
    expect(() => r.setSpeed(0)).toThrow(/speed/);
    r.close();
  } finally {
    await app.stop();
  }
});
