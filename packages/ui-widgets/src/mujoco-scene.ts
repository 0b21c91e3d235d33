/**
 * A three.js scene built from a MuJoCo model: every geom with its type, size and colour, the
 * model's lights and a floor grid, moved from body poses. Headless (no DOM, no WebGL): the 3D view
 * renders it, a test inspects it in Node.
 *
 * One path for both modes: the model is first turned into a plain {@link MujocoSceneDescription}
 * (in browser mode from the MuJoCo WebAssembly model the page runs, with
 * {@link describeMujocoModel}; in server mode from the simulator's `/telemetry/sim_scene`, with
 * {@link sceneFromMessage}), and the scene is built from that.
 *
 * This module builds the scene and is the `@telekit/ui-widgets/mujoco-scene` entry; beside it are
 * the description's shape and decoding (`mujoco-description.ts`), the reading of a WebAssembly
 * model (`mujoco-model.ts`) and each geom's look (`mujoco-geoms.ts`).
 *
 * @module
 */
import * as THREE from 'three';
import type { MujocoSceneDescription } from './mujoco-description.js';
import { geomMesh, quat, vec } from './mujoco-geoms.js';
import { describeMujocoModel, type MujocoModelLike } from './mujoco-model.js';

export {
  type MujocoGeomType,
  type MujocoNumbers,
  type MujocoSceneDescription,
  sceneFromMessage,
} from './mujoco-description.js';
export { describeMujocoModel, type MujocoModelLike } from './mujoco-model.js';

/** A body's pose in the world (MuJoCo's frame, z up), by the body's name. */
export interface MujocoBodyPose {
  name: string;
  position: { x: number; y: number; z: number };
  orientation: { x: number; y: number; z: number; w: number };
}

/** Options of {@link buildMujocoScene}. */
export interface MujocoSceneOptions {
  /** Geom groups drawn, as MuJoCo's viewer does by default (higher groups often hold collision shapes). Default 0, 1, 2. */
  groups?: readonly number[];
  /** Half size of an infinite plane (size 0), m. Default 50. */
  infinitePlane?: number;
  /**
   * Shading: `standard` (physically based, MuJoCo's look with a GPU) or `lambert` (diffuse only,
   * about half the cost per pixel: for software renderers). Default `standard`.
   */
  shading?: 'standard' | 'lambert';
  /** Colour of the floor's grid lines. Default 0x556070. */
  gridColor?: THREE.ColorRepresentation;
}

/** What {@link buildMujocoScene} returns. */
export interface MujocoScene {
  /** Everything, in MuJoCo's frame (z up): add it to a scene rotated for three's y up. */
  readonly root: THREE.Group;
  /** One group per body, by name (the world is `world`); each geom is a mesh inside its body's group. */
  readonly bodies: ReadonlyMap<string, THREE.Group>;
  /** The geoms in model order (index = geom id); `undefined` where a type is not drawn (height fields, SDF). */
  readonly geoms: readonly (THREE.Mesh | undefined)[];
  /** Geom types met that are not drawn, by MuJoCo name (`hfield`, `sdf`): the view can say so. */
  readonly skipped: readonly string[];
  /**
   * MuJoCo's headlight (the model's `visual/headlight`: a directional light from the camera; its
   * ambient part is in `root` already), or `undefined` where the model turns it off. Not in `root`:
   * put it where the camera is, looking where it looks, at every frame (with its `target`).
   */
  readonly headlight: THREE.DirectionalLight | undefined;
  /** Moves the bodies named in `poses`; the others stay where they are. */
  setBodies(poses: readonly MujocoBodyPose[]): void;
  /** Frees the geometries, materials and textures. */
  dispose(): void;
}
/** Each body's pose at the model's reference configuration, composed down the tree. */
function restPoses(scene: MujocoSceneDescription): THREE.Matrix4[] {
  const world: THREE.Matrix4[] = [new THREE.Matrix4()];
  for (let b = 1; b < scene.bodies.length; b++) {
    const body = scene.bodies[b]!;
    const local = new THREE.Matrix4().compose(vec(body.pos), quat(body.quat), new THREE.Vector3(1, 1, 1));
    world.push(world[body.parent]!.clone().multiply(local));
  }
  return world;
}

const isDescription = (s: MujocoModelLike | MujocoSceneDescription): s is MujocoSceneDescription =>
  Array.isArray((s as MujocoSceneDescription).geoms);

/**
 * Where MuJoCo's free camera is, in MuJoCo's frame (z up), as its viewer and `mjv_updateCamera`
 * place it: looking at `lookat` from `distance`, turned by `azimuth` about z and by `elevation`
 * (negative: from above), degrees. For three.js: `camera.up.set(0, 0, 1)`, `camera.position`
 * here, `camera.lookAt(lookat)`, `camera.fov` = the model's `fovy` (both vertical, degrees).
 */
export function mujocoFreeCamera(pose: {
  lookat: ArrayLike<number>;
  distance: number;
  azimuth: number;
  elevation: number;
}): { position: [number, number, number]; forward: [number, number, number]; up: [number, number, number] } {
  const az = (pose.azimuth * Math.PI) / 180;
  const el = (pose.elevation * Math.PI) / 180;
  const forward: [number, number, number] = [
    Math.cos(el) * Math.cos(az),
    Math.cos(el) * Math.sin(az),
    Math.sin(el),
  ];
  const up: [number, number, number] = [
    -Math.sin(el) * Math.cos(az),
    -Math.sin(el) * Math.sin(az),
    Math.cos(el),
  ];
  const position: [number, number, number] = [0, 1, 2].map(
    (k) => pose.lookat[k]! - pose.distance * forward[k]!,
  ) as never;
  return { position, forward, up };
}

/**
 * Builds the three.js scene of a MuJoCo model — MuJoCo WebAssembly's `MjModel` (browser mode) or a
 * {@link MujocoSceneDescription} (server mode, {@link sceneFromMessage}) — in the order MuJoCo's
 * own renderer draws it:
 *
 * 1. one group per body, placed at the model's rest pose (the world's geoms stay there);
 * 2. one mesh per geom of a drawn group (see `groups`), in its body at the geom's local pose, with
 *    its type and size (plane, sphere, capsule, ellipsoid, cylinder, box, mesh from its vertices
 *    and faces; height fields and SDF are listed in `skipped`), its colour (the geom's `rgba`, else
 *    its material's), its material's colour texture (a checker floor) and transparency;
 * 3. a grid on every plane (1 m, or the plane's third size), so distances read on the floor;
 * 4. the model's lights (spot, directional, point) in their bodies, without falloff (MuJoCo's
 *    default attenuation).
 *
 * Everything is copied: the model may be freed afterwards.
 *
 * @example
 * ```ts
 * const built = buildMujocoScene(sim.model);
 * scene.add(built.root);
 * built.setBodies(sim.current().bodies); // every frame
 * ```
 */
export function buildMujocoScene(
  source: MujocoModelLike | MujocoSceneDescription,
  options: MujocoSceneOptions = {},
): MujocoScene {
  const scene = isDescription(source) ? source : describeMujocoModel(source);
  const groups = new Set(options.groups ?? [0, 1, 2]);
  const infinite = options.infinitePlane ?? 50;
  const root = new THREE.Group();
  root.name = 'mujoco';
  const bodies = new Map<string, THREE.Group>();
  const byId: THREE.Group[] = [];
  const rest = restPoses(scene);
  for (const [b, body] of scene.bodies.entries()) {
    const group = new THREE.Group();
    group.name = body.name;
    rest[b]!.decompose(group.position, group.quaternion, group.scale);
    root.add(group);
    byId.push(group);
    bodies.set(group.name, group);
  }

  const geoms: (THREE.Mesh | undefined)[] = [];
  const skipped = new Set<string>();
  const disposables: { dispose(): void }[] = [];
  const look = { groups, infinite, shading: options.shading, gridColor: options.gridColor };
  for (const [g, geom] of scene.geoms.entries()) {
    const mesh = geomMesh(scene, geom, g, look, disposables);
    if (mesh) byId[geom.body]!.add(mesh);
    else skipped.add(geom.type);
    geoms.push(mesh);
  }
  addLights(scene, byId);
  const headlight = addHeadlight(scene, root);

  return {
    root,
    bodies,
    geoms,
    headlight,
    skipped: [...skipped],
    setBodies(poses) {
      for (const p of poses) {
        const group = bodies.get(p.name);
        if (!group) continue;
        group.position.set(p.position.x, p.position.y, p.position.z);
        group.quaternion.set(p.orientation.x, p.orientation.y, p.orientation.z, p.orientation.w);
      }
    },
    dispose() {
      for (const d of disposables) d.dispose();
      disposables.length = 0;
    },
  };
}

/**
 * The model's lights (spot, directional, point) in their bodies, without falloff (MuJoCo's default
 * attenuation).
 */
function addLights(scene: MujocoSceneDescription, byId: readonly THREE.Group[]): void {
  for (const [l, spec] of scene.lights.entries()) {
    if (!spec.active) continue;
    const diffuse = new THREE.Color(spec.diffuse[0]!, spec.diffuse[1]!, spec.diffuse[2]!);
    const pos = vec(spec.pos);
    const dir = vec(spec.dir);
    // Intensity π: a surface facing the light at full `diffuse` shows its colour × `diffuse`, as in
    // MuJoCo (three's lights are physical: a Lambert surface reflects irradiance / π).
    const light =
      spec.type === 'directional'
        ? new THREE.DirectionalLight(diffuse, Math.PI)
        : spec.type === 'spot'
          ? new THREE.SpotLight(diffuse, Math.PI, 0, Math.PI / 4, 0.5, 0)
          : new THREE.PointLight(diffuse, Math.PI, 0, 0);
    light.name = `light_${l}`;
    light.position.copy(pos);
    const body = byId[spec.body] ?? byId[0]!;
    body.add(light);
    if (light instanceof THREE.DirectionalLight || light instanceof THREE.SpotLight) {
      light.target.position.copy(pos.clone().add(dir));
      body.add(light.target);
    }
  }
}

/**
 * MuJoCo's headlight (its defaults where the description has none): ambient in `root`, the
 * directional part returned for the caller to put at the camera; none where the model turns it off.
 */
function addHeadlight(scene: MujocoSceneDescription, root: THREE.Group): THREE.DirectionalLight | undefined {
  const head = scene.view?.headlight ?? { ambient: [0.1, 0.1, 0.1], diffuse: [0.4, 0.4, 0.4], active: true };
  let headlight: THREE.DirectionalLight | undefined;
  if (head.active) {
    const ambient = new THREE.AmbientLight(
      new THREE.Color(head.ambient[0]!, head.ambient[1]!, head.ambient[2]!),
      Math.PI,
    );
    ambient.name = 'headlight:ambient';
    root.add(ambient);
    headlight = new THREE.DirectionalLight(
      new THREE.Color(head.diffuse[0]!, head.diffuse[1]!, head.diffuse[2]!),
      Math.PI,
    );
    headlight.name = 'headlight';
  }
  return headlight;
}
