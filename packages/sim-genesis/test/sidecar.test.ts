import { isTelekitError, silentLogger } from '@telekit/core';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SidecarConnection, SidecarSimulator } from '../src/index.js';
import { sidecarSimulator } from '../src/index.js';

let sim: SidecarSimulator;
let side: SidecarConnection;

beforeAll(async () => {
  sim = sidecarSimulator({ logger: silentLogger });
  await sim.loadScene({ id: 'arm', path: 'arm' });
  side = await sim.openConnection();
}, 30_000);

afterAll(async () => {
  side.close();
  await sim.close();
});

const failure = (p: Promise<unknown>) =>
  p.then(
    () => {
      throw new Error('expected a refusal');
    },
    (e: unknown) => {
      expect(isTelekitError(e)).toBe(true);
      return e as Error & { code: string };
    },
  );

describe('bad input to the sidecar', () => {
  it('a malformed scene: the error names the scene and the line', async () => {
    const e = await failure(
      sim.loadScene({
        id: 'broken',
        mjcf: '<mujoco>\n<worldbody>\n<geom type="sphere" size="0.1"/>\n<nonsense/>\n</worldbody>\n</mujoco>',
      }),
    );
    expect(e.code).toBe('E_SIM_SCENE');
    expect(e.message).toMatch(
      /^cannot load broken \(inline MJCF\): XML Error: .*\[file:broken \(inline MJCF\)\]\[line:4\]$/,
    );
    await sim.loadScene({ id: 'arm', path: 'arm' });
  });

  it('a missing scene file: the error names it', async () => {
    const e = await failure(side.request('load_scene', { scene: { id: 'x', path: '/nowhere/robot.xml' } }));
    expect(e.message).toContain('/nowhere/robot.xml');
    const unknown = await failure(side.request('load_scene', { scene: { id: 'mystery' } }));
    expect(unknown.message).toBe('unknown scene mystery; bundled scenes: arm, diff-drive [file:mystery]');
  });

  it('a menagerie robot without mujoco-menagerie installed: the error says what to install', async () => {
    const e = await failure(
      side.request('load_scene', { scene: { id: 'panda', path: 'menagerie:franka_emika_panda' } }),
    );
    expect(e.message).toBe(
      'mujoco-menagerie is not installed: pip install mujoco-menagerie [file:menagerie:franka_emika_panda]',
    );
    await side.request('load_scene', { scene: { id: 'arm', path: 'arm' } });
  });

  it('an unknown joint: the error names it and what the scene has', async () => {
    const e = await failure(
      side.request('act', { action: { kind: 'joints', name: ['wrist'], position: [1] } }),
    );
    expect(e.code).toBe('E_UNKNOWN_JOINT');
    expect(e.message).toBe('unknown joint wrist: scene arm has shoulder, elbow [field:wrist]');
  });

  it('a twist to a scene without a base is refused, saying so', async () => {
    const e = await failure(
      side.request('act', { action: { kind: 'twist', linear: { x: 1 }, angular: { z: 0 } } }),
    );
    expect(e.message).toContain('scene arm has no base');
  });

  it('2 000 random requests: each answered, the sidecar still alive', { timeout: 60_000 }, async () => {
    const ops = fc.constantFrom(
      'hello',
      'ping',
      'load_scene',
      'reset',
      'step',
      'run',
      'pause',
      'act',
      'state',
      'snapshot',
      'restore',
      'camera',
      'nope',
      '',
    );
    const request = fc.record({
      op: ops,
      args: fc.dictionary(
        fc.constantFrom(
          'scene',
          'n',
          'action',
          'snapshot',
          'width',
          'height',
          'fps',
          'state_hz',
          'camera',
          'sink',
          'enabled',
        ),
        fc.anything({ maxDepth: 2 }),
      ),
    });
    const samples = fc.sample(request, { numRuns: 2_000, seed: 7 });
    let answered = 0;
    for (const { op, args } of samples) {
      // Never ask it to stop; everything else goes.
      await side.request(op, args, 10_000).then(
        () => answered++,
        (e: unknown) => {
          expect(isTelekitError(e)).toBe(true);
          expect((e as Error).message.length).toBeGreaterThan(3);
          answered++;
        },
      );
    }
    expect(answered).toBe(2_000);
    await side.request('pause');
    expect(await side.request('ping')).toMatchObject({ ok: true });
    expect(sim.restarts).toBe(0);
  });
});
