import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createApp, headerSequence, inProcess, silentLogger, Topics } from '@telekit/core';
import { bundledScenes, genesisSim } from '@telekit/sim-genesis';
import { filter, firstValueFrom, take, timeout, toArray } from 'rxjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BrowserSimulation, httpScenes, SimTopics } from '../src/index.js';
import { fileScenes, sceneRoutes, simAuthority } from '../src/server/index.js';

const scenes = fileScenes(bundledScenes);
const SCENE = { id: 'diff-drive' };

describe('BrowserSimulation against the server sidecar', () => {
  let app: ReturnType<typeof createApp>;
  const open: BrowserSimulation[] = [];
  beforeAll(async () => {
    app = createApp({
      logger: silentLogger,
      plugins: [inProcess(), genesisSim({ scene: SCENE }), simAuthority({ rateHz: 10 })],
    });
    await app.start();
  }, 30_000);
  afterAll(async () => {
    for (const s of open) await s.close();
    await app.stop();
  });
  const start = async (options: Partial<ConstructorParameters<typeof BrowserSimulation>[0]> = {}) => {
    const sim = new BrowserSimulation({ transport: app.transport, scene: SCENE, scenes, ...options });
    open.push(sim);
    return { sim, mode: await sim.start() };
  };

  it('runs in the browser, drives locally at once, and stays within tolerance of the server', async () => {
    const { sim, mode } = await start();
    expect(mode.mode).toBe('browser');
    expect(mode.reason).toMatch(/steps\/s/);
    const reports = firstValueFrom(
      app.transport.subscribe(SimTopics.divergence).pipe(take(5), toArray(), timeout(10_000)),
    );
    const control = sim.control(app.transport);
    const next = headerSequence('operator', () => performance.timeOrigin + performance.now());
    const x0 = sim.bodies()[0]!.position.x;
    const drive = setInterval(
      () =>
        control.publish(Topics.twist, {
          header: next(),
          linear: { x: 0.5, y: 0, z: 0 },
          angular: { x: 0, y: 0, z: 0 },
        }),
      50,
    );
    try {
      const seen = await reports;
      // The server got the same commands (a few ms later): corrections stay small.
      expect(seen.every((r) => r.scene === 'diff-drive')).toBe(true);
      const last = seen.at(-1)!;
      expect(last.max).toBeLessThan(0.05);
      expect(sim.bodies()[0]!.position.x).toBeGreaterThan(x0 + 0.1);
    } finally {
      clearInterval(drive);
    }
    const health = await app.health();
    expect(JSON.stringify(health)).toMatch(/snapshots sent/);
  }, 30_000);

  it('falls back to server mode when asked, or when the engine is too slow, saying why', async () => {
    expect((await start({ mode: 'server' })).mode).toEqual({
      mode: 'server',
      reason: 'server mode was asked for (SIM_MODE=server)',
    });
    const slow = await start({ minRealtimeFactor: 1e9 });
    expect(slow.mode.mode).toBe('server');
    expect(slow.mode.reason).toMatch(/too slow: .*× real time/);
  });

  it('falls back when memory is short', async () => {
    const { mode } = await start({ minMemoryMB: 1 << 22 }); // 4 TiB of WebAssembly memory
    expect(mode).toEqual({
      mode: 'server',
      reason: `not enough memory: cannot reserve ${1 << 22} MiB for WebAssembly`,
    });
  });

  it('falls back when it stops keeping real time', async () => {
    const { sim, mode } = await start({ maxLagSeconds: 0.3 });
    expect(mode.mode).toBe('browser');
    const fellBack = firstValueFrom(
      sim.mode$.pipe(
        filter((m) => m.mode === 'server'),
        timeout(5_000),
      ),
    );
    // The page freezes for a second (a long task): the simulation falls behind real time.
    const until = performance.now() + 1_000;
    while (performance.now() < until);
    expect((await fellBack).reason).toMatch(/^cannot keep real time: \d+\.\d\d s behind$/);
  });

  it('falls back when its scene is not the server’s, naming the mismatch', async () => {
    const arm = { id: 'arm', path: 'arm' };
    const { mode } = await start({ scene: arm, firstSnapshotMs: 3_000 });
    expect(mode.mode).toBe('server');
    expect(mode.reason).toContain('snapshot is from scene diff-drive, this is arm');
  });

  it('falls back when the scene cannot load, naming the file', async () => {
    const { mode } = await start({ scene: { id: 'nowhere', path: '/nonexistent/robot.xml' } });
    expect(mode).toMatchObject({ mode: 'server' });
    expect(mode.reason).toContain('robot.xml');
  });

  it('follows a reset on the server at once', async () => {
    const { sim } = await start();
    const next = headerSequence('operator', () => performance.timeOrigin + performance.now());
    const reset = firstValueFrom(
      app.transport.subscribe(SimTopics.snapshot).pipe(
        filter((s) => s.reason === 'reset'),
        timeout(5_000),
      ),
    );
    app.transport.publish(Topics.action, { header: next(), action: 'reset' });
    const snap = await reset;
    expect(snap.time).toBeLessThan(0.5);
    await firstValueFrom(sim.divergence$.pipe(filter((r) => r !== undefined && r.time <= snap.time)));
    expect(sim.simulator!.current().time).toBeLessThan(1);
  });
});

describe('scene files over HTTP', () => {
  let server: Server;
  let base: string;
  let corrupt = false;
  beforeAll(async () => {
    const routes = sceneRoutes({ scenes: bundledScenes });
    server = createServer(async (req, res) => {
      if (corrupt && req.url?.includes('/assets/')) {
        res.end('<mujoco><worldbody><bogus/></worldbody></mujoco>');
        return;
      }
      if (!(await routes(req, res))) res.writeHead(404).end();
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/sim`;
  });
  afterAll(() => new Promise((r) => server.close(r)));

  it('serves a manifest to revalidate and assets by content hash to keep for good', async () => {
    const manifest = await fetch(`${base}/scenes/diff-drive.json`);
    expect(manifest.headers.get('cache-control')).toBe('no-cache');
    const body = (await manifest.json()) as { main: string; files: { name: string; sha256: string }[] };
    expect(body.main).toBe('diff_drive.xml');
    const again = await fetch(`${base}/scenes/diff-drive.json`, {
      headers: { 'if-none-match': manifest.headers.get('etag')! },
    });
    expect(again.status).toBe(304);
    const asset = await fetch(`${base}/assets/${body.files[0]!.sha256}`);
    expect(asset.headers.get('cache-control')).toContain('immutable');
    expect((await fetch(`${base}/scenes/nope.json`)).status).toBe(404);
    expect((await fetch(`${base}/assets/${'0'.repeat(64)}`)).status).toBe(404);
  });

  it('loads the scene in a browser simulator', async () => {
    const files = await httpScenes(base)({ id: 'arm', path: 'arm' });
    expect(files.main).toBe('arm.xml');
  });

  it('rejects a corrupt asset, naming it', async () => {
    corrupt = true;
    try {
      await expect(httpScenes(base)({ id: 'diff-drive' })).rejects.toThrow(
        /asset diff_drive\.xml of scene diff-drive is corrupt/,
      );
    } finally {
      corrupt = false;
    }
  });
});
