import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { silentLogger } from '@telekit/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type SidecarProgress, type SidecarSimulator, sidecarSimulator } from '../src/index.js';
import { alive } from './helpers.js';

// A scene load is a warm-up, judged by its signs of life, not by pings. The sidecar here runs a fake
// backend (python/tests/slow_backend.py) whose load holds Python's lock for 1.5 s at a time, as
// Genesis's kernel compiler does, while reporting its progress: the supervisor pings every 100 ms
// and counts a ping unanswered for 400 ms as a hang outside a load, and a request unanswered for 2 s
// as failed (the load takes 4.5 s).

const python = fileURLToPath(new URL('../python/', import.meta.url));
const SLOW = 'tests.slow_backend:SlowBackend';
const saved = { ...process.env };
let dir: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'telekit-warmup-'));
  // The sidecar (a child of this worker) finds the fake backend on its path.
  process.env.PYTHONPATH = [python, process.env.PYTHONPATH].filter(Boolean).join(':');
  process.env.TELEKIT_SLOW_BLOCKS = '3';
  process.env.TELEKIT_SLOW_BLOCK_S = '1.5';
});

afterAll(() => {
  process.env = saved;
  rmSync(dir, { recursive: true, force: true });
});

const slowSim = (idleMs?: number): SidecarSimulator =>
  sidecarSimulator({
    backend: SLOW,
    logger: silentLogger,
    heartbeat: { everyMs: 100, timeoutMs: 400 },
    // Shorter than the load: a load is not bound by the request timeout.
    requestTimeoutMs: 2_000,
    ...(idleMs ? { warmup: { idleMs } } : {}),
  });

describe('a scene load is a warm-up, judged by its progress', () => {
  it('a sidecar that blocks longer than the ping timeout while reporting progress is not restarted', {
    timeout: 120_000,
  }, async () => {
    const sim = slowSim();
    try {
      const seen: SidecarProgress[] = [];
      sim.progress$.subscribe((p) => seen.push(p));
      const side = await sim.openConnection();
      const pid = sim.process?.pid;
      // Pings on a connection of our own, one after the other, for as long as the load lasts.
      let loaded = false;
      let longest = 0;
      const probe = (async () => {
        while (!loaded) {
          const t0 = performance.now();
          await side.request('ping', {}, 0);
          longest = Math.max(longest, performance.now() - t0);
        }
      })();
      const info = await sim.loadScene({ id: 'diff-drive' }).finally(() => {
        loaded = true;
      });
      await probe;
      side.close();
      expect(info.hasBase).toBe(true);
      expect(sim.restarts).toBe(0);
      expect(sim.process?.pid).toBe(pid);
      // It did leave a ping unanswered past the ping timeout (the case is real), and said what it was doing.
      expect(longest).toBeGreaterThan(400);
      const phases = seen.filter((p) => !p.repeat).map((p) => p.phase);
      expect(phases[0]).toBe('start');
      expect(phases.filter((p) => p === 'build')).toHaveLength(3);
      expect(phases.at(-1)).toBe('ready');
      expect(seen.find((p) => p.phase === 'build')?.message).toMatch(/part 1 of 3/);
      // Once loaded, pings are judged again, and it is healthy.
      expect(sim.health().status).toBe('ok');
    } finally {
      await sim.close();
    }
  });

  it('while it loads, health says so with the progress; a sidecar without a scene is not healthy', {
    timeout: 120_000,
  }, async () => {
    const sim = slowSim();
    try {
      await sim.openConnection().then((c) => c.close());
      expect(sim.health()).toMatchObject({ status: 'degraded', detail: 'no scene loaded' });
      const loading = sim.loadScene({ id: 'diff-drive' });
      let during: ReturnType<SidecarSimulator['health']> | undefined;
      const sub = sim.progress$.subscribe((p) => {
        if (p.phase === 'build') during ??= sim.health();
      });
      await loading;
      sub.unsubscribe();
      expect(during?.status).toBe('degraded');
      expect(during?.detail).toMatch(/^warming up: compiling, part 1 of 3/);
      expect(during?.data.warmup?.phase).toBe('build');
      expect(sim.health()).toMatchObject({ status: 'ok', data: { scene: 'diff-drive' } });
      // Requests made during the load waited for it instead of failing.
      const during2 = sim.loadScene({ id: 'diff-drive' });
      const state = await sim.step();
      await during2;
      expect(state.scene).toBe('diff-drive');
    } finally {
      await sim.close();
    }
  });

  it('a sidecar that shows no sign of life while loading is restarted, and the load goes on', {
    timeout: 120_000,
  }, async () => {
    process.env.TELEKIT_SLOW_HANG_ONCE = join(dir, 'hung-once');
    const sim = slowSim(2_000);
    try {
      await sim.openConnection().then((c) => c.close());
      const hung = sim.process!.pid!;
      const info = await sim.loadScene({ id: 'diff-drive' });
      expect(info.id).toBe('diff-drive');
      expect(sim.restarts).toBe(1);
      expect(sim.process?.pid).not.toBe(hung);
      expect(alive(hung)).toBe(false);
    } finally {
      delete process.env.TELEKIT_SLOW_HANG_ONCE;
      await sim.close();
    }
  });
});
