/**
 * `pnpm bench recorder`:
 *
 * - control: a command's round trip through the app's transport (a twist published, its actuation
 *   report back from an echoing robot; trips 2 ms apart, only the trip timed) while up to 10,000
 *   poses a second flow, with the recorder off (baseline), on (recording everything to a file; its
 *   writer thread), and the previous design (the same written on the main thread) for comparison,
 *   measured in turns in the same run. The goal is ≤ 1.05×.
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
import { performance } from 'node:perf_hooks';
import {
  actuationReport,
  createApp,
  inProcess,
  type Plugin,
  type Pose,
  silentLogger,
  type Topic,
  Topics,
  TransportToken,
} from '@telekit/core';
import { builtinTopics } from '@telekit/core/schemas';
import type { Benchmark } from '@telekit/testkit/bench';
import { filter, firstValueFrom } from 'rxjs';
import {
  createReplay,
  McapFile,
  type RecordedMessage,
  RecorderToken,
  recorder,
  topicChannel,
  WriteQueue,
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

const WARMUP = 100;
const ROUNDS = 5;
const TRIPS = 500;

/**
 * The previous design, for comparison in the same run: the same feeds written on the main thread
 * through a {@link WriteQueue} (drain slices of 1 ms) into an {@link McapFile} (zstd in the event loop).
 */
const mainThreadRecorder = (dir: string): Plugin => ({
  name: 'main-thread-recorder',
  requires: [TransportToken],
  async setup(ctx) {
    const t = ctx.resolve(TransportToken);
    const file = await McapFile.create(join(dir, 'main.mcap'), { chunkSize: 256 * 1024, zstdLevel: 3 });
    type Item = { channel: ReturnType<typeof topicChannel>; atMs: number; json: unknown };
    const queue = new WriteQueue<Item>({
      capacity: 4096,
      write: (e) => file.write(e.channel, BigInt(Math.round(e.atMs * 1e6)), e.json),
      onError: () => undefined,
    });
    const subs = builtinTopics
      .filter((topic) => topic.lane === 'telemetry' || topic.lane === 'control')
      .map((topic) => {
        const channel = topicChannel(topic);
        const cls =
          topic.lane === 'control' || topic.name === Topics.actuation.name ? 'control' : 'telemetry';
        return t
          .subscribe(topic as Topic<unknown>, topic.lane === 'control' ? { ttl: 3_600_000 } : { depth: 256 })
          .subscribe((json) => queue.push(cls, { channel, atMs: ctx.clock.now(), json }));
      });
    const flush = setInterval(() => void file.flushChunk(BigInt(Date.now()) * 1_000_000n), 2_000);
    return async () => {
      clearInterval(flush);
      for (const sub of subs) sub.unsubscribe();
      await queue.drained();
      await file.close();
    };
  },
});

type Mode = 'off' | 'thread' | 'main';

async function roundTrip(mode: Mode, trips: number) {
  const dir = mkdtempSync(join(tmpdir(), 'telekit-bench-rec-'));
  const app = createApp({
    logger: silentLogger,
    plugins: [
      inProcess(),
      echoRobot(),
      ...(mode === 'thread' ? [recorder({ dir })] : mode === 'main' ? [mainThreadRecorder(dir)] : []),
    ],
  });
  await app.start();
  const t = app.transport;
  const fates = t.subscribe(Topics.actuation, { depth: 256 });
  let seq = 0;
  // Only the round trip is timed: the pause between commands (a 2 ms gap, as an operator's
  // commands at 500 Hz) is outside each sample, so the ratio is the recorder's cost on the lane itself.
  const trip = async () => {
    const s = seq++;
    const back = firstValueFrom(
      fates.pipe(filter((a) => a.command.sender === 'bench' && a.command.seq === s)),
    );
    const t0 = performance.now();
    t.publish(Topics.twist, {
      header: { seq: s, stamp: Date.now(), sender: 'bench' },
      linear: { x: 0.1, y: 0, z: 0 },
      angular: { x: 0, y: 0, z: 0 },
    });
    await back;
    return performance.now() - t0;
  };
  const samples: number[] = [];
  let elu = performance.eventLoopUtilization();
  for (let i = 0; i < WARMUP + trips; i++) {
    if (i === WARMUP) elu = performance.eventLoopUtilization();
    const ms = await trip();
    if (i >= WARMUP) samples.push(ms);
    await new Promise((r) => setTimeout(r, 2));
  }
  const busy = performance.eventLoopUtilization(elu).utilization;
  const status = mode === 'thread' ? app.resolve(RecorderToken).status() : undefined;
  await app.stop();
  rmSync(dir, { recursive: true, force: true });
  return { samples, status, busy };
}

/**
 * The three variants measured in turns (off, writer thread, main thread; {@link ROUNDS} times), each
 * a fresh app, so a machine whose load drifts during the run weighs on all three alike.
 */
const rounds = (() => {
  let run: Promise<Record<Mode, { samples: number[]; extra: Record<string, number | string> }>> | undefined;
  return () => {
    run ??= (async () => {
      const out = {
        off: { samples: [] as number[], extra: { mainBusy: 0 } as Record<string, number> },
        thread: {
          samples: [] as number[],
          extra: { mainBusy: 0, poses: 0, dropped: 0, queueHighWater: 0 } as Record<string, number>,
        },
        main: { samples: [] as number[], extra: { mainBusy: 0 } as Record<string, number> },
      };
      for (let r = 0; r < ROUNDS; r++)
        for (const mode of ['off', 'thread', 'main'] as const) {
          const { samples, status, busy } = await roundTrip(mode, TRIPS);
          out[mode].samples.push(...samples);
          // The main thread's event loop utilisation, averaged over the rounds (in %).
          out[mode].extra.mainBusy! += +((busy * 100) / ROUNDS).toFixed(1);
          if (status) {
            const e = out.thread.extra;
            e.poses! += status.messages['/telemetry/pose'] ?? 0;
            e.dropped! += status.queue.dropped + status.feedDropped;
            e.queueHighWater = Math.max(e.queueHighWater!, status.queue.highWater);
          }
        }
      return out;
    })();
    return run;
  };
})();

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
    title: `recorder: command round trip (twist → actuation report) under 10k poses/s, recorder off vs on (${ROUNDS} rounds of ${TRIPS} trips, in turns)`,
    kind: 'latency',
    baseline: { name: 'recorder off', run: async () => (await rounds()).off },
    candidates: [
      { name: 'recorder on (writer thread)', run: async () => (await rounds()).thread },
      { name: 'main-thread writer (previous design)', run: async () => (await rounds()).main },
    ],
  },
  {
    id: 'recorder-throughput',
    title: `recorder: ${N} poses written, MB/s of JSON taken in (plain file vs MCAP)`,
    kind: 'throughput',
    baseline: { name: 'same JSON to a file, 1 MiB writes', run: () => throughput(false) },
    candidates: [{ name: 'McapFile (chunked, indexed, zstd 3)', run: () => throughput(true) }],
  },
];
