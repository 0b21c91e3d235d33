/**
 * `pnpm bench recorder`:
 *
 * - control: a command's round trip through the app's transport (a twist published, its actuation
 *   report back from an echoing robot) while 10,000 poses a second flow, with the recorder off
 *   (baseline) and on (recording everything to a file) in the same run. The goal is ≤ 1.05×.
 * - replay: 4 s of poses recorded at 2 kHz played back at 1× and at 10× onto an app's transport: the
 *   delivered rate and the speed achieved (recorded span ÷ wall time); keeping up at 10× is a
 *   rate ratio of 10.
 * - throughput: the recorder's file writer (JSON, chunked, indexed, zstd) against writing the same
 *   JSON bytes to a file in 1 MiB blocks: MB/s of JSON taken in, and the file sizes.
 */
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  actuationReport,
  createApp,
  inProcess,
  type Plugin,
  type Pose,
  silentLogger,
  Topics,
  TransportToken,
} from '@telekit/core';
import { type Benchmark, measureLatency } from '@telekit/testkit/bench';
import { filter, firstValueFrom } from 'rxjs';
import {
  createReplay,
  McapFile,
  type RecordedMessage,
  RecorderToken,
  recorder,
  topicChannel,
} from '../src/index.js';

/** Answers every twist at once with its actuation report, and publishes 10 kHz of poses. */
const echoRobot = (): Plugin => ({
  name: 'echo-robot',
  requires: [TransportToken],
  setup(ctx) {
    const t = ctx.resolve(TransportToken);
    let seq = 0;
    const header = () => ({ seq: seq++, stamp: ctx.clock.now(), sender: 'robot' });
    const sub = t
      .subscribe(Topics.twist)
      .subscribe((cmd) =>
        t.publish(Topics.actuation, actuationReport(Topics.twist, cmd.header, header(), ctx.clock.now())),
      );
    const load = setInterval(() => {
      for (let i = 0; i < 50; i++) t.publish(Topics.pose, pose(header()));
    }, 5);
    return () => {
      clearInterval(load);
      sub.unsubscribe();
    };
  },
});

const pose = (header: { seq: number; stamp: number; sender: string }): Pose => ({
  header,
  frame: 'odom',
  position: { x: Math.random(), y: Math.random(), z: 0 },
  orientation: { x: 0, y: 0, z: Math.random(), w: 1 },
  linear: { x: 0.5, y: 0, z: 0 },
  angular: { x: 0, y: 0, z: 0.1 },
});

async function roundTrip(record: boolean) {
  const dir = mkdtempSync(join(tmpdir(), 'telekit-bench-rec-'));
  const app = createApp({
    logger: silentLogger,
    plugins: [inProcess(), echoRobot(), ...(record ? [recorder({ dir })] : [])],
  });
  await app.start();
  const t = app.transport;
  const fates = t.subscribe(Topics.actuation, { depth: 256 });
  let seq = 0;
  const samples = await measureLatency(
    async () => {
      const s = seq++;
      const back = firstValueFrom(
        fates.pipe(filter((a) => a.command.sender === 'bench' && a.command.seq === s)),
      );
      t.publish(Topics.twist, {
        header: { seq: s, stamp: Date.now(), sender: 'bench' },
        linear: { x: 0.1, y: 0, z: 0 },
        angular: { x: 0, y: 0, z: 0 },
      });
      await back;
      await new Promise((r) => setTimeout(r, 2));
    },
    { iterations: 1_000, warmup: 100 },
  );
  const status = record ? app.resolve(RecorderToken).status() : undefined;
  await app.stop();
  const extra: Record<string, number | string> = {};
  if (status) {
    extra.fileMB = +(statSync(status.file!).size / 1e6).toFixed(2);
    extra.poses = status.messages['/telemetry/pose'] ?? 0;
    extra.dropped = status.queue.dropped + status.feedDropped;
    extra.queueHighWater = status.queue.highWater;
  }
  rmSync(dir, { recursive: true, force: true });
  return { samples, extra };
}

const N = 100_000;
const poses = Array.from({ length: N }, (_, i) => pose({ seq: i, stamp: Date.now() + i, sender: 'robot' }));

async function throughput(mcap: boolean) {
  const dir = mkdtempSync(join(tmpdir(), 'telekit-bench-rec-'));
  const path = join(dir, mcap ? 'poses.mcap' : 'poses.jsonl');
  let jsonBytes = 0;
  const t0 = performance.now();
  if (mcap) {
    const file = await McapFile.create(path, { chunkSize: 1024 * 1024, zstdLevel: 3 });
    const channel = topicChannel(Topics.pose);
    for (const p of poses) {
      jsonBytes += JSON.stringify(p).length;
      await file.write(channel, BigInt(p.header.stamp) * 1_000_000n, p);
    }
    await file.close();
  } else {
    const handle = await open(path, 'w');
    let block: string[] = [];
    let size = 0;
    for (const p of poses) {
      const line = JSON.stringify(p);
      jsonBytes += line.length;
      block.push(line);
      size += line.length;
      if (size >= 1024 * 1024) {
        await handle.write(block.join('\n'));
        block = [];
        size = 0;
      }
    }
    await handle.write(block.join('\n'));
    await handle.close();
  }
  const seconds = (performance.now() - t0) / 1000;
  const fileBytes = statSync(path).size;
  rmSync(dir, { recursive: true, force: true });
  return {
    rate: jsonBytes / 1e6 / seconds,
    bytes: fileBytes,
    extra: { jsonMB: +(jsonBytes / 1e6).toFixed(1), fileMB: +(fileBytes / 1e6).toFixed(2), messages: N },
  };
}

const SPAN_MS = 4_000;
const recorded: RecordedMessage[] = Array.from({ length: SPAN_MS * 2 }, (_, i) => ({
  topic: Topics.pose.name,
  logTime: 1_700_000_000_000n * 1_000_000n + BigInt(i) * 500_000n,
  json: pose({ seq: i, stamp: 1_700_000_000_000 + i / 2, sender: 'robot' }),
}));

async function replayAt(speed: number) {
  const app = createApp({ logger: silentLogger, plugins: [inProcess()] });
  await app.start();
  let delivered = 0;
  app.transport.subscribe(Topics.pose, { depth: 4096 }).subscribe(() => delivered++);
  const t0 = performance.now();
  const r = createReplay(recorded, app.transport, { speed });
  await r.ended;
  while (delivered < recorded.length) await new Promise((resolve) => setImmediate(resolve));
  const seconds = (performance.now() - t0) / 1000;
  await app.stop();
  return {
    rate: delivered / seconds,
    extra: { achievedSpeed: +(r.durationMs / 1000 / seconds).toFixed(2), messages: delivered },
  };
}

export const benchmarks: Benchmark[] = [
  {
    id: 'recorder-replay',
    title: `recorder: replay of ${SPAN_MS / 1000} s of poses at 2 kHz, 1× vs 10× (keeping up: rate ratio 10)`,
    kind: 'throughput',
    baseline: { name: 'replay at 1×', run: () => replayAt(1) },
    candidates: [{ name: 'replay at 10×', run: () => replayAt(10) }],
  },
  {
    id: 'recorder-control',
    title: 'recorder: command round trip (twist → actuation report) under 10k poses/s, recorder off vs on',
    kind: 'latency',
    baseline: { name: 'recorder off', run: () => roundTrip(false) },
    candidates: [{ name: 'recorder on (everything to MCAP, zstd)', run: () => roundTrip(true) }],
  },
  {
    id: 'recorder-throughput',
    title: `recorder: ${N} poses written, MB/s of JSON taken in (plain file vs MCAP)`,
    kind: 'throughput',
    baseline: { name: 'same JSON to a file, 1 MiB writes', run: () => throughput(false) },
    candidates: [{ name: 'McapFile (chunked, indexed, zstd 3)', run: () => throughput(true) }],
  },
];
