import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  createApp,
  inProcess,
  type Plugin,
  silentLogger,
  Topics,
  type Transport,
  TransportToken,
} from '@telekit/core';
import { kinematicSim } from '@telekit/testkit/fakes';
import Ajv2020 from 'ajv/dist/2020.js';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { type Recorder, RecorderToken, readRecording, recorder } from '../src/index.js';
import { kinematicRobot } from './robot.js';

const dirs: string[] = [];
const tempDir = () => {
  const d = mkdtempSync(join(tmpdir(), 'telekit-rec-'));
  dirs.push(d);
  return d;
};
let app: ReturnType<typeof createApp> | undefined;
afterEach(async () => {
  await app?.stop();
  app = undefined;
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** An app with the kinematic robot and the recorder; hands back its transport and the recorder's API. */
async function recordingApp(options: Omit<Parameters<typeof recorder>[0], 'dir'> & { dir?: string } = {}) {
  const dir = options.dir ?? tempDir();
  let transport!: Transport;
  let rec!: Recorder;
  const grab: Plugin = {
    name: 'grab',
    requires: [TransportToken, RecorderToken],
    setup(ctx) {
      transport = ctx.resolve(TransportToken);
      rec = ctx.resolve(RecorderToken);
    },
  };
  app = createApp({
    logger: silentLogger,
    plugins: [inProcess(), kinematicRobot(), recorder({ ...options, dir }), grab],
  });
  await app.start();
  return { dir, transport, rec };
}

const twist = (seq: number, stamp: number) => ({
  header: { seq, stamp, sender: 'operator' },
  linear: { x: 0.5, y: 0, z: 0 },
  angular: { x: 0, y: 0, z: 0.2 },
});

describe('recorder', () => {
  it('records telemetry, every command with its fate, the link and an episode; every message fits its channel schema', async () => {
    const { transport, rec } = await recordingApp();
    const fates = new Set<number>();
    let reports = 0;
    const sub = transport.subscribe(Topics.actuation, { depth: 256 }).subscribe((a) => {
      fates.add(a.command.seq);
      reports++;
    });
    await rec.startEpisode('drive to the red cube');
    // Fresh commands (applied or superseded where they act) and one stamped long ago, which the
    // robot's control feed drops as stale: the recorder, which takes late commands too, has it.
    for (let seq = 0; seq < 20; seq++) {
      transport.publish(Topics.twist, twist(seq, Date.now()));
      await new Promise((r) => setTimeout(r, 15));
    }
    transport.publish(Topics.twist, twist(20, Date.now() - 5_000));
    // Wait until the robot has reported the last fresh command's fate.
    await vi.waitFor(() => expect(fates.has(19)).toBe(true), { timeout: 20_000 });
    sub.unsubscribe();
    // … and until the recorder has written as many reports as this test saw.
    await vi.waitFor(async () => {
      await rec.flush();
      expect(rec.status().messages['/telemetry/actuation']).toBeGreaterThanOrEqual(reports);
    });
    await rec.stopEpisode();
    const file = rec.status().file!;
    await app!.stop();
    app = undefined;

    const recording = await readRecording(file);
    expect(recording.read).toBe('indexed');
    const topics = new Set(recording.messages.map((m) => m.topic));
    for (const t of [
      '/telemetry/pose',
      '/telemetry/battery',
      '/telemetry/actuation',
      '/controller/twist',
      '/recorder/link',
      '/recorder/episode',
    ])
      expect(topics, t).toContain(t);
    // Every command is there, and every command has its fate.
    const commands = recording.messages
      .filter((m) => m.topic === '/controller/twist')
      .map((m) => (m.json as { header: { seq: number } }).header.seq);
    expect(commands).toEqual([...Array(21).keys()]);
    const fateOf = new Map(
      recording.messages
        .filter((m) => m.topic === '/telemetry/actuation')
        .map((m) => m.json as { command: { seq: number; sender: string }; fate: string })
        .filter((a) => a.command.sender === 'operator')
        .map((a) => [a.command.seq, a.fate]),
    );
    for (const seq of commands.slice(0, 20))
      expect(fateOf.get(seq), `fate of ${seq}`).toMatch(/applied|superseded/);
    expect(fateOf.get(20)).toBeUndefined();
    // The episode: start and stop on its channel, and a metadata record.
    const episode = recording.messages.filter((m) => m.topic === '/recorder/episode').map((m) => m.json);
    expect(episode).toMatchObject([
      { event: 'start', index: 0, task: 'drive to the red cube' },
      { event: 'stop', index: 0, task: 'drive to the red cube' },
    ]);
    expect(recording.metadata.get('episode-0')).toMatchObject({ index: '0', task: 'drive to the red cube' });
    // The simulator's snapshot at the episode's start restores into a fresh simulator of the same engine.
    const snap = recording.messages.find((m) => m.topic === '/recorder/sim_snapshot')?.json as
      | { scene: string; engine: string; time: number; data: string }
      | undefined;
    expect(snap).toMatchObject({ scene: 'diff-drive' });
    const fresh = kinematicSim();
    await fresh.loadScene({ id: 'diff-drive' });
    await fresh.restore({ ...snap!, data: new Uint8Array(Buffer.from(snap!.data, 'base64')) });
    await fresh.close();
    // The schemas: core's published ones for the protocol's topics, and every message fits its own.
    const ajv = new Ajv2020({ strict: false, allErrors: true });
    const checks = new Map([...recording.channels].map(([topic, ch]) => [topic, ajv.compile(ch.schema)]));
    expect(recording.channels.get('/controller/twist')?.schemaName).toBe('/controller/twist');
    for (const m of recording.messages) {
      const check = checks.get(m.topic)!;
      expect(check(m.json), `${m.topic}: ${ajv.errorsText(check.errors)}`).toBe(true);
    }
  });

  it('rotates by size; every file closes with its summary and episodes carry over', async () => {
    const { dir, transport, rec } = await recordingApp({
      maxFileBytes: 48 * 1024,
      chunkSize: 8 * 1024,
      flushMs: 0,
    });
    await rec.startEpisode('fill three files');
    let seq = 0;
    await vi.waitFor(
      () => {
        for (let i = 0; i < 50; i++) transport.publish(Topics.twist, twist(seq++, Date.now()));
        expect(rec.status().files.length).toBeGreaterThanOrEqual(3);
      },
      { timeout: 30_000, interval: 20 },
    );
    await app!.stop();
    app = undefined;
    const files = readdirSync(dir).filter((f) => f.endsWith('.mcap'));
    expect(files.length).toBeGreaterThanOrEqual(3);
    for (const f of files.slice(0, -1))
      expect(statSync(join(dir, f)).size).toBeLessThan(48 * 1024 + 64 * 1024);
    const second = await readRecording(rec.status().files[1]!);
    expect(second.read).toBe('indexed');
    expect(second.messages.find((m) => m.topic === '/recorder/episode')?.json).toMatchObject({
      event: 'continue',
      task: 'fill three files',
    });
  });

  it('rotates by time and on request', async () => {
    const { rec } = await recordingApp({ maxFileMs: 300 });
    await vi.waitFor(() => expect(rec.status().files.length).toBeGreaterThanOrEqual(3), { timeout: 30_000 });
    const before = rec.status().files.length;
    await rec.rotate();
    expect(rec.status().files.length).toBeGreaterThan(before);
  });
});

describe('recorder falling behind', () => {
  it('drops telemetry and counts it, keeps every command, and says so in the file and its health', async () => {
    const { transport, rec } = await recordingApp({ queueCapacity: 16, feedDepth: 1 });
    for (let burst = 0; burst < 20; burst++) {
      for (let i = 0; i < 200; i++)
        transport.publish(Topics.battery, {
          header: { seq: burst * 200 + i, stamp: Date.now(), sender: 'flood' },
          percentage: 0.5,
          voltage: 24,
          charging: false,
        });
      transport.publish(Topics.twist, twist(burst, Date.now()));
      await new Promise((r) => setImmediate(r));
    }
    await vi.waitFor(
      async () => {
        await rec.flush();
        expect(rec.status().messages['/recorder/stats'] ?? 0).toBeGreaterThanOrEqual(2);
      },
      { timeout: 20_000 },
    );
    const status = rec.status();
    const lost = status.queue.dropped + status.feedDropped;
    expect(lost).toBeGreaterThan(0);
    expect(status.queue.droppedControl).toBe(0);
    const health = await app!.health();
    expect(health.plugins['@telekit/recorder']?.status).toBe('degraded');
    const file = status.file!;
    await app!.stop();
    app = undefined;
    const recording = await readRecording(file);
    const commands = recording.messages.filter(
      (m) =>
        m.topic === '/controller/twist' &&
        (m.json as { header: { sender: string } }).header.sender === 'operator',
    );
    expect(commands.length + status.superseded).toBeGreaterThanOrEqual(20);
    const stats = recording.messages.filter((m) => m.topic === '/recorder/stats').at(-1)?.json as {
      dropped: number;
      feedDropped: number;
    };
    expect(stats.dropped + stats.feedDropped).toBeGreaterThan(0);
  });
});
