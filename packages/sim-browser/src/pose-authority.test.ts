import { isTelekitError, type Simulator, silentLogger } from '@telekit/core';
import type { SimAction, SimSnapshot } from '@telekit/core/contracts';
import { bundledScenes, type SidecarSimulator, sidecarSimulator } from '@telekit/sim-genesis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuthoritySync, type DivergenceReport } from './authority-sync.js';
import { loadEngine } from './engine.js';
import { CrossEngineGuard, followAnyEngine, sceneLayout } from './pose-authority.js';
import { decodePoseSnapshot, POSE_SNAPSHOT_FORMAT } from './pose-snapshot.js';
import { authoritySnapshot, PAGE_ENGINE } from './server/authority-snapshot.js';
import { fileScenes } from './server/file-scenes.js';
import { type WasmSimulator, wasmSimulator } from './wasm-simulator.js';

// The page following an authority on another engine by its pose snapshots. The authority here is
// the MuJoCo sidecar's pose snapshot, relabelled as from another engine: the same physics, so what
// the pose path loses (the solver's warm start) is all that shows. Genesis itself follows in the
// demo's check (examples/teleop-sim, `--backend genesis --sim-mode browser`).

const scenes = fileScenes(bundledScenes);
const SCENE = { id: 'diff-drive', path: 'diff-drive' };
const OTHER = 'other-engine 1.0 (cpu)';
const twist = (x: number, z: number): SimAction => ({
  kind: 'twist',
  linear: { x, y: 0, z: 0 },
  angular: { x: 0, y: 0, z },
});
const foreign = (snap: SimSnapshot): SimSnapshot => ({ ...snap, engine: OTHER });
const distance = (a: { x: number; y: number; z: number }, b: typeof a) =>
  Math.hypot(a.x - b.x, a.y - b.y, a.z - b.z);

let server: SidecarSimulator;
const open: { close(): Promise<void> }[] = [];
beforeAll(async () => {
  server = sidecarSimulator({ backend: 'mujoco', logger: silentLogger });
  open.push(server);
  await server.loadScene(SCENE);
}, 30_000);
afterAll(async () => {
  for (const s of open.splice(0)) await s.close();
});

async function page(): Promise<{ sim: WasmSimulator; following: WasmSimulator }> {
  const engine = await loadEngine();
  const sim = wasmSimulator({ engine, scenes });
  open.push(sim);
  await sim.loadScene(SCENE);
  return { sim, following: followAnyEngine(sim, async () => sceneLayout(engine, await scenes(SCENE))) };
}

describe('pose snapshots from the sidecar', () => {
  it('carry every body and joint by name, in world terms', async () => {
    await server.reset();
    server.act(twist(0.4, 0.3));
    const state = await server.step(200);
    const snap = await server.poseSnapshot();
    expect(snap).toMatchObject({ scene: 'diff-drive', engine: server.engine });
    const poses = decodePoseSnapshot(snap.data);
    expect(poses.bodies.map((b) => b.name)).toEqual(['base', 'left_wheel', 'right_wheel']);
    expect(poses.joints.map((j) => j.name)).toEqual(['left_wheel', 'right_wheel']);
    expect(distance(poses.bodies[0]!.position, state.bodies[0]!.position)).toBeLessThan(1e-12);
    // Turning left: the base's yaw rate is about the world's z axis.
    expect(poses.bodies[0]!.angular.z).toBeGreaterThan(0.1);
  });

  it('are what the authority publishes for pages only when it runs another engine than theirs', async () => {
    const bytes = await authoritySnapshot(server);
    expect(bytes.engine).toBe(PAGE_ENGINE);
    expect(() => decodePoseSnapshot(bytes.data)).toThrow();
    const genesisLike = {
      engine: OTHER,
      snapshot: () => server.snapshot(),
      poseSnapshot: () => server.poseSnapshot(),
    } as unknown as Simulator;
    const poses = await authoritySnapshot(genesisLike);
    expect(decodePoseSnapshot(poses.data).bodies.length).toBe(3);
  });
});

describe('a page following an authority on another engine', () => {
  it('takes the authority’s poses and velocities exactly', async () => {
    await server.reset();
    server.act(twist(0.5, 0.4));
    const there = await server.step(300);
    const snap = foreign(await server.poseSnapshot());
    const { sim, following } = await page();
    const sync = new AuthoritySync(following);
    await sync.adopt(snap);
    const here = sim.current();
    expect(here.time).toBe(there.time);
    for (const [i, body] of here.bodies.entries())
      expect(distance(body.position, there.bodies[i]!.position)).toBeLessThan(1e-9);
    expect(distance(here.base!.linear, there.base!.linear)).toBeLessThan(1e-9);
    expect(distance(here.base!.angular, there.base!.angular)).toBeLessThan(1e-9);
  });

  it('measures and corrects the divergence at each snapshot while both drive', async () => {
    await server.reset();
    const { following } = await page();
    const sync = new AuthoritySync(following);
    await sync.adopt(foreign(await server.poseSnapshot()));
    const reports: DivergenceReport[] = [];
    for (let i = 0; i < 10; i++) {
      const action = twist(0.5, i < 5 ? 0 : 0.8);
      server.act(action);
      sync.act(action);
      // A snapshot every 0.1 s of simulated time, the page in step with it (the inputs act at the
      // same step on both sides: what the page's placing of commands achieves when it runs ahead).
      await server.step(20);
      await sync.step(20);
      reports.push(await sync.apply(foreign(await server.poseSnapshot())));
    }
    expect(reports.every((r) => r.bodies.length === 3)).toBe(true);
    // The same physics from the same poses: well under a millimetre apart at every snapshot.
    expect(Math.max(...reports.map((r) => r.max))).toBeLessThan(1e-3);
  });

  it('refuses a pose snapshot of another scene, or one without a body it has, naming it', async () => {
    const { following } = await page();
    const snap = foreign(await server.poseSnapshot());
    const other = await following.restore({ ...snap, scene: 'arm' }).catch((e: unknown) => e);
    expect(isTelekitError(other) && (other as Error).message).toContain('snapshot is from scene arm');
    const poses = JSON.parse(new TextDecoder().decode(snap.data)) as { bodies: { name: string }[] };
    poses.bodies = poses.bodies.filter((b) => b.name !== 'base');
    const missing = { ...snap, data: new TextEncoder().encode(JSON.stringify(poses)) };
    expect(() => following.bodiesOf(missing)).toThrow(/reports no body base/);
    await expect(following.restore(missing)).rejects.toThrow(/no body base, which has a free joint here/);
  });

  it('rejects data that is not a pose snapshot, naming the field', () => {
    const bad = new TextEncoder().encode(
      JSON.stringify({ format: POSE_SNAPSHOT_FORMAT, bodies: [{ name: 'b' }], joints: [] }),
    );
    expect(() => decodePoseSnapshot(bad)).toThrow(/bodies\.0\.position/);
    expect(() => decodePoseSnapshot(new TextEncoder().encode('{'))).toThrow(/UTF-8 JSON/);
  });
});

describe('CrossEngineGuard', () => {
  const report = (max: number): DivergenceReport => ({
    scene: 'diff-drive',
    time: 1,
    max,
    mean: max,
    worst: 'base',
    bodies: [],
    correction: 'smooth',
    replayed: 0,
  });

  it('lets an authority on another engine lead while the median divergence stays within the limit', () => {
    const guard = new CrossEngineGuard({ maxDivergence: 0.05, window: 5 });
    // One spike (a collision the engines see differently) is not a verdict.
    for (const max of [0.01, 0.2, 0.01, 0.02, 0.01, 0.01])
      expect(guard.judge(report(max), OTHER, PAGE_ENGINE)).toBeUndefined();
  });

  it('says why the page falls back, with the measured figure, once the engines disagree too much', () => {
    const guard = new CrossEngineGuard({ maxDivergence: 0.05, window: 3 });
    expect(guard.judge(report(0.08), OTHER, PAGE_ENGINE)).toBeUndefined();
    expect(guard.judge(report(0.09), OTHER, PAGE_ENGINE)).toBeUndefined();
    expect(guard.judge(report(0.07), OTHER, PAGE_ENGINE)).toBe(
      `${OTHER} and ${PAGE_ENGINE} disagree too much on scene diff-drive: the page's prediction was 80.0 mm off the server's (median of the last 3 snapshots), more than the 50 mm allowed`,
    );
  });

  it('never judges an authority on the page’s own engine', () => {
    const guard = new CrossEngineGuard({ maxDivergence: 0.001, window: 1 });
    expect(guard.judge(report(1), PAGE_ENGINE, PAGE_ENGINE)).toBeUndefined();
  });
});
