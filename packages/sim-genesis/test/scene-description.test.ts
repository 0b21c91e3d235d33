import { createApp, inProcess, silentLogger, Topics } from '@telekit/core';
import { SimScene } from '@telekit/core/schemas';
import { filter, firstValueFrom, timeout } from 'rxjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { genesisSim, sidecarSimulator } from '../src/index.js';

// Server mode's 3D view draws what the sidecar says the scene looks like: /telemetry/sim_scene,
// published once the scene runs, from the sidecar's MuJoCo model.
describe('the scene description (/telemetry/sim_scene)', () => {
  let app: ReturnType<typeof createApp>;
  beforeAll(async () => {
    app = createApp({
      logger: silentLogger,
      plugins: [inProcess(), genesisSim({ scene: { id: 'diff-drive' }, rates: { simState: 10 } })],
    });
    await app.start();
  }, 60_000);
  afterAll(() => app.stop());

  it("is published once the scene runs, valid by core's schema, with the bodies sim_state moves", async () => {
    const scene = await firstValueFrom(app.transport.subscribe(Topics.simScene).pipe(timeout(30_000)));
    expect(SimScene.safeParse(scene).success).toBe(true);
    expect(scene.scene).toBe('diff-drive');
    expect(scene.geoms.map((g) => g.type)).toEqual([
      'plane',
      'box',
      'box',
      'box',
      'sphere',
      'sphere',
      'cylinder',
      'cylinder',
    ]);
    const chassis = scene.geoms.find((g) => g.name === 'chassis')!;
    expect(chassis).toMatchObject({ size: [0.2, 0.15, 0.05], group: 0, mesh: -1, material: -1 });
    expect(scene.bodies[chassis.body]!.name).toBe('base');
    // The floor's checker: 512 × 512 RGB, base64.
    const floor = scene.geoms[0]!;
    const texture = scene.textures[scene.materials[floor.material]!.texture]!;
    expect(texture).toMatchObject({ width: 512, height: 512, channels: 3 });
    expect(Buffer.from(texture.data, 'base64').length).toBe(512 * 512 * 3);
    expect(scene.lights).toEqual([
      { body: 0, type: 'spot', pos: [0, 0, 4], dir: [0, 0, -1], diffuse: expect.any(Array), active: true },
    ]);
    expect(scene.view).toMatchObject({ fovy: 45 });
    // Every body sim_state reports is in the description, by the same name.
    const state = await firstValueFrom(
      app.transport.subscribe(Topics.simState).pipe(
        filter((s) => s.bodies.length > 0),
        timeout(10_000),
      ),
    );
    const described = new Set(scene.bodies.map((b) => b.name));
    for (const body of state.bodies) expect(described.has(body.name), body.name).toBe(true);
  });

  it('describes meshes as float32 vertices and uint32 faces', async () => {
    const sim = sidecarSimulator({ logger: silentLogger });
    try {
      await sim.loadScene({
        id: 'tet',
        mjcf: `<mujoco><asset><mesh name="tet" vertex="0 0 0  0.2 0 0  0 0.2 0  0 0 0.2"/></asset>
          <worldbody><body name="thing"><freejoint/><geom type="mesh" mesh="tet"/></body></worldbody></mujoco>`,
      });
      const description = await sim.sceneDescription();
      expect(description.geoms[0]).toMatchObject({ type: 'mesh', mesh: 0 });
      const mesh = description.meshes[0]!;
      const vertices = new Float32Array(new Uint8Array(Buffer.from(mesh.vertices, 'base64')).buffer);
      const faces = new Uint32Array(new Uint8Array(Buffer.from(mesh.faces, 'base64')).buffer);
      expect(vertices.length).toBe(12);
      expect(faces.length).toBe(12);
      expect(Math.max(...faces)).toBe(3);
    } finally {
      await sim.close();
    }
  });
});
