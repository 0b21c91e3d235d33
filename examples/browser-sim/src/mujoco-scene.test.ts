import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { SimScene } from '@telekit/core/schemas';
import { wasmSimulator } from '@telekit/sim-browser';
import { fileScenes } from '@telekit/sim-browser/server';
import { bundledScenes } from '@telekit/sim-genesis';
import {
  buildMujocoScene,
  describeMujocoModel,
  type MujocoScene,
  sceneFromMessage,
} from '@telekit/ui-widgets/mujoco-scene';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// The page's 3D view built from the MuJoCo model itself: the bundled diff-drive scene compiled by
// the real MuJoCo WebAssembly engine in Node, its three.js scene graph inspected (no WebGL needed).
const sim = wasmSimulator({ scenes: fileScenes(bundledScenes) });

beforeAll(async () => {
  await sim.loadScene({ id: 'diff-drive', path: 'diff-drive' });
}, 120_000);
afterAll(() => sim.close());

// three.js's types, as the builder hands them out (three is the widgets' dependency, not this example's).
type Mesh = NonNullable<MujocoScene['geoms'][number]>;
interface Standard {
  color: { getHex(space: string): number };
  map: { image: unknown; repeat: { toArray(): number[] } } | null;
}
type Params = Record<string, number>;
const params = (mesh: Mesh | undefined) => (mesh!.geometry as unknown as { parameters: Params }).parameters;

describe('buildMujocoScene (diff-drive, MuJoCo WASM)', () => {
  it('draws every geom with its type, size and colour', () => {
    const built = buildMujocoScene(sim.model!);
    expect(built.geoms.map((g) => g?.userData.type)).toEqual([
      'plane',
      'box',
      'box',
      'box',
      'sphere',
      'sphere',
      'cylinder',
      'cylinder',
    ]);
    expect(built.skipped).toEqual([]);
    const byName = (name: string) => built.geoms.find((g) => g?.name === name);
    expect(params(byName('chassis'))).toMatchObject({ width: 0.4, height: 0.3, depth: 0.1 });
    expect(params(byName('caster_front')).radius).toBeCloseTo(0.028, 6);
    const wheel = built.geoms[6]!;
    expect(wheel.parent?.name).toBe('left_wheel');
    expect(params(wheel)).toMatchObject({ radiusTop: 0.06, radiusBottom: 0.06, height: 0.04 });
    expect(params(byName('floor'))).toMatchObject({ width: 40, height: 40 });
    const color = (name: string) => (byName(name)!.material as unknown as Standard).color.getHex('srgb');
    // geom rgba 0.95 0.55 0.1, in sRGB bytes.
    expect(color('chassis')).toBe(0xf28c1a);
    expect(color('marker_x')).toBe(0xe63333);
    // The floor: the grid material's checker texture (512 × 512) repeated 10 × 10, with grid lines.
    const floor = byName('floor')!.material as unknown as Standard;
    expect(floor.map?.image).toMatchObject({ width: 512, height: 512 });
    expect(floor.map?.repeat.toArray()).toEqual([10, 10]);
    expect(byName('floor')!.children.map((c) => c.type)).toEqual(['GridHelper']);
    // The model's light: "sun", a spot light 4 m above the origin, looking down.
    const lights: { type: string; position: { toArray(): number[] } }[] = [];
    built.root.traverse((o) => {
      if ((o as { isLight?: boolean }).isLight) lights.push(o);
    });
    // …and MuJoCo's headlight: its ambient part in the scene, its directional part for the camera.
    expect(lights.map((l) => [l.type, l.position.toArray()])).toEqual([
      ['SpotLight', [0, 0, 4]],
      ['AmbientLight', [0, 0, 0]],
    ]);
    expect(built.headlight?.type).toBe('DirectionalLight');
    built.dispose();
  });

  it("puts every geom where MuJoCo has it, from the body poses the page's simulator reports", async () => {
    const built = buildMujocoScene(sim.model!);
    // Drive forward and turn, so the base has moved and rotated and the wheels have spun.
    sim.act({ kind: 'twist', linear: { x: 0.4, y: 0, z: 0 }, angular: { x: 0, y: 0, z: 0.8 } });
    const state = await sim.step(400);
    expect(state.base!.position.x).toBeGreaterThan(0.1);
    built.setBodies(state.bodies);
    built.root.updateMatrixWorld(true);
    const data = sim.data!;
    const xpos = data.geom_xpos as Float64Array;
    const xmat = data.geom_xmat as Float64Array;
    let checked = 0;
    for (const [g, mesh] of built.geoms.entries()) {
      if (!mesh) continue;
      const e = mesh.matrixWorld.elements; // column-major
      expect([e[12], e[13], e[14]].map((v) => v!.toFixed(6))).toEqual(
        [xpos[3 * g], xpos[3 * g + 1], xpos[3 * g + 2]].map((v) => v!.toFixed(6)),
      );
      // geom_xmat is row-major 3 × 3: row r, column c → elements[4c + r].
      for (let r = 0; r < 3; r++)
        for (let c = 0; c < 3; c++) expect(e[4 * c + r]).toBeCloseTo(xmat[9 * g + 3 * r + c]!, 6);
      checked++;
    }
    expect(checked).toBe(8);
    built.dispose();
  });
});

describe('the scene description: browser mode and server mode agree', () => {
  const python = fileURLToPath(new URL('../../../.venv/bin/python', import.meta.url));
  it("describeMujocoModel (the page's WASM model) equals the sidecar's /telemetry/sim_scene (native MuJoCo)", (ctx) => {
    if (!existsSync(python)) ctx.skip('no .venv with MuJoCo (bash scripts/setup.sh makes it)');
    // What the sidecar publishes, from native MuJoCo (unnamed bodies named as the page names them).
    const run = spawnSync(
      python,
      [
        '-c',
        [
          'import json, sys, mujoco',
          'from telekit_sim.scene_description import describe_scene',
          'from telekit_sim.scene_model import bundled_path',
          "m = mujoco.MjModel.from_xml_path(bundled_path('diff-drive'))",
          "name = lambda b: mujoco.mj_id2name(m, mujoco.mjtObj.mjOBJ_BODY, b) or f'body_{b}'",
          "json.dump(describe_scene(m, 'diff-drive', name), sys.stdout)",
        ].join('\n'),
      ],
      { encoding: 'utf8', maxBuffer: 64 << 20 },
    );
    expect(run.status, run.stderr).toBe(0);
    const server = sceneFromMessage(JSON.parse(run.stdout) as Omit<SimScene, 'header'>);
    const page = describeMujocoModel(sim.model!);
    // Numbers to 1e-6 (both engines compile the same MJCF; colours are float32 in both).
    const numbers = (value: unknown): unknown =>
      ArrayBuffer.isView(value) || Array.isArray(value)
        ? Array.from(value as ArrayLike<unknown>, numbers)
        : typeof value === 'number'
          ? Math.round(value * 1e6) / 1e6 + 0
          : value && typeof value === 'object'
            ? Object.fromEntries(Object.entries(value).map(([k, v]) => [k, numbers(v)]))
            : value;
    for (const key of ['bodies', 'geoms', 'meshes', 'materials', 'lights', 'view'] as const)
      expect(numbers(page[key]), key).toEqual(numbers(server[key]));
    expect(page.textures.map(({ data, ...t }) => ({ ...t, bytes: data.length }))).toEqual(
      server.textures.map(({ data, ...t }) => ({ ...t, bytes: data.length })),
    );
    expect(Array.from(page.textures[0]!.data)).toEqual(Array.from(server.textures[0]!.data));
    expect(server.view).toMatchObject({ fovy: 45, azimuth: 90, elevation: -45 });
  });
});

describe('buildMujocoScene (every geom type, MuJoCo WASM)', () => {
  // A tetrahedron mesh, a capsule, an ellipsoid, a material's colour, a hidden collision group and
  // a directional light in a body.
  const shapes = wasmSimulator();
  const mjcf = `<mujoco>
    <asset>
      <mesh name="tet" vertex="0 0 0  0.2 0 0  0 0.2 0  0 0 0.2"/>
      <material name="blue" rgba="0.1 0.2 0.9 1"/>
    </asset>
    <worldbody>
      <geom name="ground" type="plane" size="0 0 0.5"/>
      <body name="thing" pos="1 2 0.5">
        <freejoint/>
        <light name="lamp" directional="true" pos="0 0 1" dir="0 0 -1"/>
        <geom name="tet" type="mesh" mesh="tet" material="blue"/>
        <geom name="pill" type="capsule" size="0.05 0.1" pos="0.3 0 0"/>
        <geom name="egg" type="ellipsoid" size="0.1 0.2 0.3" pos="-0.3 0 0" rgba="1 0 0 0.5"/>
        <geom name="hull" type="box" size="0.1 0.1 0.1" group="3"/>
      </body>
    </worldbody>
  </mujoco>`;
  afterAll(() => shapes.close());

  it('builds meshes from mesh_vert/mesh_face, capsules along z, ellipsoids, materials, groups and lights', async () => {
    await shapes.loadScene({ id: 'shapes', mjcf });
    const built = buildMujocoScene(shapes.model!);
    const byName = (name: string) => built.geoms.find((g) => g?.name === name)!;
    expect(built.geoms.map((g) => g?.userData.type)).toEqual([
      'plane',
      'mesh',
      'capsule',
      'ellipsoid',
      'box',
    ]);
    // The mesh: MuJoCo's own vertices and faces (4 triangles of the tetrahedron).
    const tet = byName('tet').geometry as unknown as {
      getAttribute(n: string): { count: number };
      getIndex(): { count: number };
    };
    expect(tet.getAttribute('position').count).toBe(4);
    expect(tet.getIndex().count).toBe(12);
    expect((byName('tet').material as unknown as Standard).color.getHex('srgb')).toBe(0x1a33e6);
    // A capsule of radius 0.05 and half length 0.1 spans 0.3 m along z.
    const box = (name: string) => {
      const g = byName(name).geometry as unknown as {
        computeBoundingBox(): void;
        boundingBox: { min: { x: number; y: number; z: number }; max: { x: number; y: number; z: number } };
      };
      g.computeBoundingBox();
      const { min, max } = g.boundingBox;
      return [max.x - min.x, max.y - min.y, max.z - min.z].map((v) => Number(v.toFixed(3)));
    };
    expect(box('pill')).toEqual([0.1, 0.1, 0.3]);
    expect(box('egg')).toEqual([0.2, 0.4, 0.6]);
    const egg = byName('egg').material as unknown as { transparent: boolean; opacity: number };
    expect(egg).toMatchObject({ transparent: true, opacity: 0.5 });
    // Group 3 (collision shapes in many models) is hidden, as in MuJoCo's viewer.
    expect(byName('hull').visible).toBe(false);
    // An infinite plane is drawn 100 m wide with a grid every 0.5 m.
    expect(params(byName('ground'))).toMatchObject({ width: 100, height: 100 });
    const light = built.bodies.get('thing')!.children.find((c) => c.name === 'light_0');
    expect(light?.type).toBe('DirectionalLight');
    expect(built.bodies.get('thing')!.position.toArray()).toEqual([1, 2, 0.5]);
    built.dispose();
  });
});
