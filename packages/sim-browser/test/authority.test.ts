import { isTelekitError, silentLogger } from '@telekit/core';
import type { SimAction } from '@telekit/core/contracts';
import { bundledScenes, sidecarSimulator } from '@telekit/sim-genesis';
import { afterEach, describe, expect, it } from 'vitest';
import { AuthoritySync, MUJOCO_VERSION, type WasmSimulator, wasmSimulator } from '../src/index.js';
import { fileScenes } from '../src/server/index.js';

const scenes = fileScenes(bundledScenes);
const SCENE = { id: 'diff-drive', path: 'diff-drive' };
const twist = (x: number, z: number): SimAction => ({
  kind: 'twist',
  linear: { x, y: 0, z: 0 },
  angular: { x: 0, y: 0, z },
});

const open: { close(): Promise<void> }[] = [];
afterEach(async () => {
  for (const s of open.splice(0)) await s.close();
});
async function wasm(): Promise<WasmSimulator> {
  const sim = wasmSimulator({ scenes });
  open.push(sim);
  await sim.loadScene(SCENE);
  return sim;
}
const maxError = (a: { bodies: readonly { position: { x: number; y: number; z: number } }[] }, b: typeof a) =>
  Math.max(
    ...a.bodies.map((body, i) => {
      const o = b.bodies[i]!.position;
      return Math.hypot(body.position.x - o.x, body.position.y - o.y, body.position.z - o.z);
    }),
  );

describe('the WASM engine and the server sidecar', () => {
  it('run the same engine version', async () => {
    const server = sidecarSimulator({ backend: 'mujoco', logger: silentLogger });
    open.push(server);
    await server.loadScene(SCENE);
    expect(server.engine).toBe(`mujoco ${MUJOCO_VERSION}`);
    expect((await wasm()).engine).toBe(server.engine);
  }, 30_000);

  it("restore the sidecar's snapshot exactly, and stay together on the same inputs", async () => {
    const server = sidecarSimulator({ backend: 'mujoco', logger: silentLogger });
    open.push(server);
    await server.loadScene(SCENE);
    server.act(twist(0.4, 0.3));
    const there = await server.step(300);
    const snap = await server.snapshot();
    const browser = await wasm();
    await browser.restore(snap);
    const here = browser.current();
    expect(here.time).toBe(there.time);
    expect(maxError(here, there)).toBeLessThan(1e-9);
    // The same inputs from the same state: two builds of one engine version drift apart only
    // slowly (different compilers round differently; contacts amplify it): millimetres in 5 s.
    server.act(twist(0.5, -0.2));
    browser.act(twist(0.5, -0.2));
    const a = await server.step(1_000);
    const b = await browser.step(1_000);
    expect(maxError(a, b)).toBeGreaterThan(0);
    expect(maxError(a, b)).toBeLessThan(0.01);
  }, 30_000);
});

describe('restoring a snapshot that does not belong', () => {
  it.each([
    ['another scene', { scene: 'arm' }, 'scene arm'],
    ['another engine version', { engine: 'mujoco 3.3.8' }, 'mujoco 3.3.8'],
    ['another model under the same name', { data: new Uint8Array(16) }, 'bytes'],
  ])('rejects one from %s, naming the mismatch', async (_, change, named) => {
    const sim = await wasm();
    const snap = { ...(await sim.snapshot()), ...change };
    const error = await sim.restore(snap).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(isTelekitError(error)).toBe(true);
    expect((error as Error).message).toContain(named);
    expect(() => sim.bodiesOf(snap)).toThrow(named);
    // The simulation is untouched.
    expect((await sim.step()).step).toBe(1);
  });
});

describe('AuthoritySync', () => {
  /** A browser that got a push the server never saw, then the same inputs as the server. */
  async function pushed() {
    const server = await wasm();
    const browser = await wasm();
    const sync = new AuthoritySync(browser, { tolerance: 0.002, snapThreshold: 0.25, smoothMs: 100 });
    open.push({ close: async () => sync.close() });
    sync.act(twist(0.6, 0.8)); // only the browser
    await sync.step(100);
    sync.act(twist(0.4, 0));
    server.act(twist(0.4, 0));
    await sync.step(100);
    await server.step(200);
    return { server, browser, sync };
  }

  it('measures divergence at the snapshot time, corrects, and then agrees with the server', async () => {
    const { server, browser, sync } = await pushed();
    // The snapshot is "in flight" for 20 steps: the browser runs ahead of it meanwhile.
    const snap = await server.snapshot();
    await sync.step(20);
    await server.step(20);
    const first = await sync.apply(snap);
    expect(first.max).toBeGreaterThan(0.01);
    expect(first.correction).toBe('smooth');
    expect(first.replayed).toBe(20);
    expect(first.bodies.find((b) => b.name === first.worst)?.error).toBe(first.max);
    // After the correction the browser is where the server is (same inputs since).
    expect(maxError(browser.current(), server.current())).toBeLessThan(1e-6);
    await sync.step(40);
    await server.step(40);
    const second = await sync.apply(await server.snapshot());
    expect(second.max).toBeLessThan(0.002);
    expect(second.correction).toBe('none');
  });

  it('replays the inputs given after the snapshot, at their own steps', async () => {
    const { server, browser, sync } = await pushed();
    const snap = await server.snapshot();
    await sync.step(10);
    sync.act(twist(0, 1)); // a turn the server gets 10 steps later (network)
    await sync.step(30);
    await server.step(20);
    server.act(twist(0, 1));
    await server.step(20);
    await sync.apply(snap);
    // The replay put the turn where the browser had it: 10 steps after the snapshot.
    const reference = await wasm();
    await reference.restore(snap);
    reference.act(twist(0.4, 0));
    await reference.step(10);
    reference.act(twist(0, 1));
    const expected = await reference.step(30);
    expect(maxError(browser.current(), expected)).toBeLessThan(1e-9);
    expect(browser.current().time).toBeCloseTo(expected.time, 9);
  });

  it('draws a smooth correction as a blend, and snaps a large one', async () => {
    let now = 0;
    const server = await wasm();
    const browser = await wasm();
    const sync = new AuthoritySync(browser, { snapThreshold: 0.25, smoothMs: 100, now: () => now });
    sync.act(twist(0.5, 0));
    await sync.step(40);
    const before = sync.bodies()[0]!.position.x;
    await server.step(40);
    const report = await sync.apply(await server.snapshot());
    expect(report.correction).toBe('smooth');
    const after = browser.current().bodies[0]!.position.x;
    expect(sync.bodies()[0]!.position.x).toBeCloseTo(before, 9); // drawn where it was
    now = 50;
    expect(sync.bodies()[0]!.position.x).toBeCloseTo((before + after) / 2, 6);
    now = 100;
    expect(sync.bodies()[0]!.position.x).toBeCloseTo(after, 9);
    // Two seconds of driving the server never saw: past the snap threshold.
    sync.act(twist(0.5, 0));
    await sync.step(400);
    await server.step(400);
    const big = await sync.apply(await server.snapshot());
    expect(big.max).toBeGreaterThan(0.25);
    expect(big.correction).toBe('snap');
    expect(sync.bodies()[0]!.position.x).toBeCloseTo(browser.current().bodies[0]!.position.x, 9);
    sync.close();
  });

  it("puts a command the authority applies in the browser's past in its place: no divergence at the next snapshot", async () => {
    const server = await wasm();
    const browser = await wasm();
    const sync = new AuthoritySync(browser);
    const dt = browser.scene!.timestep;
    server.act(twist(0.4, 0));
    sync.act(twist(0.4, 0));
    await server.step(100);
    await sync.step(100);
    // A snapshot the browser measures and keeps (the rollback's starting point)…
    expect((await sync.apply(await server.snapshot())).correction).toBe('none');
    // …then the browser runs 20 steps ahead of the server, as a page does.
    await sync.step(20);
    const t0 = server.current().time;
    // The operator turns now: the server will apply it 5 steps on, 15 steps in the browser's past.
    const replayed = await sync.actAt(twist(0, 1), t0 + 5 * dt);
    expect(replayed).toBe(20);
    expect(browser.current().time).toBeCloseTo(t0 + 20 * dt, 9);
    await server.step(5);
    server.act(twist(0, 1));
    await server.step(35);
    await sync.step(20);
    const report = await sync.apply(await server.snapshot());
    expect(report.max).toBeLessThan(1e-9);
    expect(report.correction).toBe('none');
    // A command at or after the browser's present acts at once, as act() does.
    expect(await sync.actAt(twist(0.2, 0), browser.current().time + dt)).toBe(0);
    sync.close();
  });

  it('moves a command to where the authority reports it acted (it was late on its way): no divergence', async () => {
    const server = await wasm();
    const browser = await wasm();
    const sync = new AuthoritySync(browser);
    const dt = browser.scene!.timestep;
    server.act(twist(0.4, 0));
    sync.act(twist(0.4, 0));
    await server.step(100);
    await sync.step(100);
    await sync.apply(await server.snapshot());
    await sync.step(20);
    const t0 = server.current().time;
    // The page expects the turn to act 2 steps on; it reaches the server 12 steps on.
    await sync.actAt(twist(0, 1), t0 + 2 * dt, undefined, 'turn');
    await server.step(12);
    server.act(twist(0, 1));
    const actedFrom = server.current().time;
    await server.step(28);
    expect(await sync.placeAt('turn', actedFrom)).toBe(20);
    // Told again (or about a command it does not know): nothing to do.
    expect(await sync.placeAt('turn', actedFrom)).toBe(0);
    expect(await sync.placeAt('other', actedFrom)).toBe(0);
    await sync.step(20);
    const report = await sync.apply(await server.snapshot());
    expect(report.max).toBeLessThan(1e-9);
    sync.close();
  });

  it('meets a snapshot a little ahead (a busy page) by simulating up to it, and compares at that instant', async () => {
    const server = await wasm();
    const browser = await wasm();
    const sync = new AuthoritySync(browser);
    server.act(twist(0.5, 0));
    sync.act(twist(0.5, 0));
    await sync.step(10);
    await server.step(30);
    const report = await sync.apply(await server.snapshot());
    // The same inputs: no divergence, though the browser was 20 steps (5 cm of driving) behind.
    expect(report.max).toBeLessThan(1e-9);
    expect(report.correction).toBe('none');
    expect(browser.current().time).toBeCloseTo(server.current().time, 9);
    sync.close();
  });

  it('adopts a snapshot from ahead of it (the browser fell behind)', async () => {
    const server = await wasm();
    const browser = await wasm();
    const sync = new AuthoritySync(browser);
    await sync.step(10);
    await server.step(200);
    const report = await sync.apply(await server.snapshot());
    expect(report.correction).toBe('snap');
    expect(browser.current().time).toBeCloseTo(server.current().time, 9);
    sync.close();
  });
});
