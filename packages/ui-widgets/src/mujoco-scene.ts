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
 * @module
 */
import type { SimScene } from '@telekit/core/schemas';
import * as THREE from 'three';

/** Numbers as MuJoCo's WebAssembly build hands them out (typed arrays into its heap). */
export type MujocoNumbers = ArrayLike<number>;

/**
 * The fields of a MuJoCo `mjModel` the scene is built from (MuJoCo's WebAssembly `MjModel` has
 * them all; any object with the same fields will do, e.g. a copy sent by a server). Arrays are
 * flat, as in `mjModel`: `geom_size` holds 3 numbers per geom, `geom_quat` 4 (w, x, y, z)…
 */
export interface MujocoModelLike {
  readonly nbody: number;
  readonly ngeom: number;
  readonly nlight: number;
  readonly nmat: number;
  readonly body_parentid: ArrayLike<number>;
  readonly body_pos: ArrayLike<number>;
  readonly body_quat: ArrayLike<number>;
  readonly geom_type: ArrayLike<number>;
  readonly geom_bodyid: ArrayLike<number>;
  readonly geom_dataid: ArrayLike<number>;
  readonly geom_matid: ArrayLike<number>;
  readonly geom_group: ArrayLike<number>;
  readonly geom_size: ArrayLike<number>;
  readonly geom_pos: ArrayLike<number>;
  readonly geom_quat: ArrayLike<number>;
  readonly geom_rgba: ArrayLike<number>;
  readonly mat_rgba: ArrayLike<number>;
  readonly mat_texid?: ArrayLike<number>;
  readonly mat_texrepeat?: ArrayLike<number>;
  readonly mat_texuniform?: ArrayLike<number>;
  readonly tex_adr?: ArrayLike<number>;
  readonly tex_width?: ArrayLike<number>;
  readonly tex_height?: ArrayLike<number>;
  readonly tex_nchannel?: ArrayLike<number>;
  readonly tex_data?: ArrayLike<number>;
  readonly mesh_vertadr: ArrayLike<number>;
  readonly mesh_vertnum: ArrayLike<number>;
  readonly mesh_faceadr: ArrayLike<number>;
  readonly mesh_facenum: ArrayLike<number>;
  readonly mesh_vert: ArrayLike<number>;
  readonly mesh_face: ArrayLike<number>;
  readonly light_bodyid?: ArrayLike<number>;
  readonly light_type?: ArrayLike<number>;
  readonly light_pos: ArrayLike<number>;
  readonly light_dir: ArrayLike<number>;
  readonly light_diffuse: ArrayLike<number>;
  readonly light_active?: ArrayLike<number>;
  /** All names, NUL-separated bytes. */
  readonly names: ArrayLike<number>;
  readonly name_bodyadr: ArrayLike<number>;
  readonly name_geomadr: ArrayLike<number>;
  /** `visual`: the free camera (`global`) and the headlight, where the build hands them out. */
  readonly vis?: {
    readonly global?: { readonly fovy: number; readonly azimuth: number; readonly elevation: number };
    readonly headlight?: {
      readonly ambient: ArrayLike<number>;
      readonly diffuse: ArrayLike<number>;
      readonly active: number | boolean;
    };
  };
  /** `statistic`: the model's size and centre. */
  readonly stat?: { readonly extent: number; readonly center: ArrayLike<number> };
}

/** MuJoCo's geom types (`mjtGeom`, in its order). */
export type MujocoGeomType =
  | 'plane'
  | 'hfield'
  | 'sphere'
  | 'capsule'
  | 'ellipsoid'
  | 'cylinder'
  | 'box'
  | 'mesh'
  | 'sdf';

/**
 * What a MuJoCo scene looks like, as plain data: the same fields as core's `SimScene` message, with
 * meshes and textures as numbers rather than base64. Vectors are arrays; quaternions are MuJoCo's
 * (w, x, y, z); indices are -1 where there is none.
 */
export interface MujocoSceneDescription {
  /** Bodies in model order (0 is the world): name, parent index, pose in the parent at rest. */
  readonly bodies: readonly {
    readonly name: string;
    readonly parent: number;
    readonly pos: MujocoNumbers;
    readonly quat: MujocoNumbers;
  }[];
  /** Geoms in model order: type, size (MuJoCo's 3 numbers), pose in the body, colour, group, mesh and material. */
  readonly geoms: readonly {
    readonly name: string;
    readonly body: number;
    readonly type: MujocoGeomType;
    readonly size: MujocoNumbers;
    readonly pos: MujocoNumbers;
    readonly quat: MujocoNumbers;
    readonly rgba: MujocoNumbers;
    readonly group: number;
    readonly mesh: number;
    readonly material: number;
  }[];
  /** Meshes in the geom's frame: x, y, z per vertex; 3 vertex indices per triangle. */
  readonly meshes: readonly { readonly vertices: MujocoNumbers; readonly faces: MujocoNumbers }[];
  /** Materials: colour, colour texture, its repeats (per metre when `texuniform`). */
  readonly materials: readonly {
    readonly rgba: MujocoNumbers;
    readonly texture: number;
    readonly texrepeat: MujocoNumbers;
    readonly texuniform: boolean;
  }[];
  /** Textures: `channels` bytes per pixel. */
  readonly textures: readonly {
    readonly width: number;
    readonly height: number;
    readonly channels: number;
    readonly data: MujocoNumbers;
  }[];
  /** Lights in their bodies. */
  readonly lights: readonly {
    readonly body: number;
    readonly type: 'spot' | 'directional' | 'point' | 'image';
    readonly pos: MujocoNumbers;
    readonly dir: MujocoNumbers;
    readonly diffuse: MujocoNumbers;
    readonly active: boolean;
  }[];
  /** The model's free camera (`visual/global`, `statistic`), when known. */
  readonly view?: {
    readonly fovy: number;
    readonly azimuth: number;
    readonly elevation: number;
    readonly extent: number;
    readonly center: MujocoNumbers;
    /** MuJoCo's headlight: a light from the camera and the ambient light (defaults 0.4 and 0.1). */
    readonly headlight?: {
      readonly ambient: MujocoNumbers;
      readonly diffuse: MujocoNumbers;
      readonly active: boolean;
    };
  };
}

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

/** MuJoCo's `mjtGeom`, by value (the enum values are part of MuJoCo's stable ABI). */
const GEOM_TYPES: readonly MujocoGeomType[] = [
  'plane',
  'hfield',
  'sphere',
  'capsule',
  'ellipsoid',
  'cylinder',
  'box',
  'mesh',
  'sdf',
];
/** MuJoCo's `mjtLightType`, by value. */
const LIGHT_TYPES = ['spot', 'directional', 'point', 'image'] as const;
/** `mjtTextureRole.mjTEXROLE_RGB`: the colour texture among a material's texture slots. */
const TEXROLE_RGB = 1;

const decoder = new TextDecoder();

function nameAt(names: MujocoNumbers, adr: number): string {
  let end = adr;
  while (end < names.length && names[end] !== 0) end++;
  const bytes = new Uint8Array(end - adr);
  for (let i = adr; i < end; i++) bytes[i - adr] = names[i]! & 0xff;
  return decoder.decode(bytes);
}

const quat = (q: MujocoNumbers) => new THREE.Quaternion(q[1]!, q[2]!, q[3]!, q[0]!);
const vec = (v: MujocoNumbers) => new THREE.Vector3(v[0]!, v[1]!, v[2]!);
/** `n` numbers of a flat MuJoCo array, item `i`. */
const slice = (a: MujocoNumbers, i: number, n: number): number[] =>
  Array.from({ length: n }, (_, k) => a[n * i + k]!);

const FIELDS = [
  'body_parentid',
  'body_pos',
  'body_quat',
  'geom_type',
  'geom_bodyid',
  'geom_dataid',
  'geom_matid',
  'geom_group',
  'geom_size',
  'geom_pos',
  'geom_quat',
  'geom_rgba',
  'mat_rgba',
  'mat_texid',
  'mat_texrepeat',
  'mat_texuniform',
  'tex_adr',
  'tex_width',
  'tex_height',
  'tex_nchannel',
  'tex_data',
  'mesh_vertadr',
  'mesh_vertnum',
  'mesh_faceadr',
  'mesh_facenum',
  'mesh_vert',
  'mesh_face',
  'light_bodyid',
  'light_type',
  'light_pos',
  'light_dir',
  'light_diffuse',
  'light_active',
  'names',
  'name_bodyadr',
  'name_geomadr',
] as const;

/**
 * Every field read once: MuJoCo's WebAssembly getters make a new view into its heap at each access
 * (slow in a loop, and invalid once the heap grows). A field the build cannot hand out (some
 * boolean arrays) is left out, as an optional field would be. Typed arrays are copied as they are.
 */
function snapshot(model: MujocoModelLike): MujocoModelLike {
  const copy: Record<string, unknown> = {
    nbody: model.nbody,
    ngeom: model.ngeom,
    nlight: model.nlight,
    nmat: model.nmat,
  };
  for (const field of FIELDS) {
    try {
      const value = model[field] as MujocoNumbers | undefined;
      if (value === undefined) continue;
      copy[field] = ArrayBuffer.isView(value)
        ? (value as unknown as { slice(): MujocoNumbers }).slice()
        : Array.isArray(value)
          ? value
          : Array.from(value);
    } catch {
      // Optional in the model's description: drawn with defaults.
    }
  }
  return copy as unknown as MujocoModelLike;
}

/**
 * The description of a MuJoCo model (MuJoCo WebAssembly's `MjModel`, or any object with its
 * fields): what browser mode draws. Everything is copied: the model may be freed afterwards.
 * Unnamed bodies are `body_<id>`, as `wasmSimulator`'s body states name them.
 *
 * @example
 * ```ts
 * const description = describeMujocoModel(sim.model);
 * const built = buildMujocoScene(description);
 * ```
 */
export function describeMujocoModel(source: MujocoModelLike): MujocoSceneDescription {
  const m = snapshot(source);
  const bodies = Array.from({ length: m.nbody }, (_, b) => ({
    name: b === 0 ? 'world' : nameAt(m.names, m.name_bodyadr[b]!) || `body_${b}`,
    parent: m.body_parentid[b]!,
    pos: slice(m.body_pos, b, 3),
    quat: slice(m.body_quat, b, 4),
  }));
  const geoms = Array.from({ length: m.ngeom }, (_, g) => {
    const type = GEOM_TYPES[m.geom_type[g]!] ?? 'sdf';
    return {
      name: nameAt(m.names, m.name_geomadr[g]!) || `geom_${g}`,
      body: m.geom_bodyid[g]!,
      type,
      size: slice(m.geom_size, g, 3),
      pos: slice(m.geom_pos, g, 3),
      quat: slice(m.geom_quat, g, 4),
      rgba: slice(m.geom_rgba, g, 4),
      group: m.geom_group[g]!,
      mesh: type === 'mesh' ? m.geom_dataid[g]! : -1,
      material: m.geom_matid[g]!,
    };
  });
  const sub = (a: MujocoNumbers, from: number, n: number) =>
    ArrayBuffer.isView(a)
      ? (a as unknown as { subarray(s: number, e: number): MujocoNumbers }).subarray(from, from + n)
      : Array.prototype.slice.call(a, from, from + n);
  const meshes = Array.from({ length: m.mesh_vertadr.length }, (_, i) => ({
    vertices: sub(m.mesh_vert, 3 * m.mesh_vertadr[i]!, 3 * m.mesh_vertnum[i]!),
    faces: sub(m.mesh_face, 3 * m.mesh_faceadr[i]!, 3 * m.mesh_facenum[i]!),
  }));
  const roles = m.nmat > 0 && m.mat_texid ? m.mat_texid.length / m.nmat : 1;
  const materials = Array.from({ length: m.nmat }, (_, i) => ({
    rgba: slice(m.mat_rgba, i, 4),
    texture: m.mat_texid ? (m.mat_texid[roles > 1 ? i * roles + TEXROLE_RGB : i] ?? -1) : -1,
    texrepeat: m.mat_texrepeat ? slice(m.mat_texrepeat, i, 2) : [1, 1],
    texuniform: (m.mat_texuniform?.[i] ?? 0) !== 0,
  }));
  const textures =
    m.tex_adr && m.tex_data
      ? Array.from({ length: m.tex_adr.length }, (_, t) => {
          const width = m.tex_width![t]!;
          const height = m.tex_height![t]!;
          const channels = m.tex_nchannel?.[t] ?? 3;
          return {
            width,
            height,
            channels,
            data: sub(m.tex_data!, m.tex_adr![t]!, width * height * channels),
          };
        })
      : [];
  const lights = Array.from({ length: m.nlight }, (_, l) => ({
    body: m.light_bodyid?.[l] ?? 0,
    type: LIGHT_TYPES[m.light_type?.[l] ?? 0] ?? 'point',
    pos: slice(m.light_pos, l, 3),
    dir: slice(m.light_dir, l, 3),
    diffuse: slice(m.light_diffuse, l, 3),
    active: m.light_active ? m.light_active[l] !== 0 : true,
  }));
  return { bodies, geoms, meshes, materials, textures, lights, ...freeCamera(source) };
}

/** The model's free camera and headlight, where MuJoCo's build hands them out. */
function freeCamera(model: MujocoModelLike): Pick<MujocoSceneDescription, 'view'> {
  try {
    const global = model.vis?.global;
    const headlight = model.vis?.headlight;
    const stat = model.stat;
    if (!global || !stat) return {};
    return {
      view: {
        fovy: global.fovy,
        azimuth: global.azimuth,
        elevation: global.elevation,
        extent: stat.extent,
        center: Array.from(stat.center),
        ...(headlight
          ? {
              headlight: {
                ambient: Array.from(headlight.ambient),
                diffuse: Array.from(headlight.diffuse),
                active: Boolean(headlight.active),
              },
            }
          : {}),
      },
    };
  } catch {
    return {};
  }
}

function fromBase64(text: string): Uint8Array {
  const binary = atob(text);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

/**
 * The description carried by a `/telemetry/sim_scene` message (server mode): meshes' vertices
 * (float32) and faces (uint32) and textures' bytes decoded from base64 (little-endian).
 */
export function sceneFromMessage(message: Omit<SimScene, 'header'>): MujocoSceneDescription {
  return {
    bodies: message.bodies,
    geoms: message.geoms,
    meshes: message.meshes.map((mesh) => ({
      vertices: new Float32Array(fromBase64(mesh.vertices).buffer),
      faces: new Uint32Array(fromBase64(mesh.faces).buffer),
    })),
    materials: message.materials,
    textures: message.textures.map((t) => ({ ...t, data: fromBase64(t.data) })),
    lights: message.lights,
    ...(message.view ? { view: message.view } : {}),
  };
}

/** Geometry in the geom's own frame (MuJoCo's: capsules and cylinders along z). */
function geometry(
  scene: MujocoSceneDescription,
  geom: MujocoSceneDescription['geoms'][number],
  infinite: number,
): THREE.BufferGeometry | undefined {
  const [a, b, c] = [geom.size[0]!, geom.size[1]!, geom.size[2]!];
  switch (geom.type) {
    case 'plane':
      return new THREE.PlaneGeometry(2 * (a || infinite), 2 * (b || infinite));
    case 'sphere':
      return new THREE.SphereGeometry(a, 32, 16);
    case 'ellipsoid':
      return new THREE.SphereGeometry(1, 32, 16).scale(a, b, c);
    case 'capsule':
      return new THREE.CapsuleGeometry(a, 2 * b, 8, 24).rotateX(Math.PI / 2);
    case 'cylinder':
      return new THREE.CylinderGeometry(a, a, 2 * b, 32).rotateX(Math.PI / 2);
    case 'box':
      return new THREE.BoxGeometry(2 * a, 2 * b, 2 * c);
    case 'mesh': {
      const mesh = scene.meshes[geom.mesh];
      if (!mesh) return undefined;
      // Copies: the description's arrays may be views into an engine's heap, which moves or goes away.
      const shape = new THREE.BufferGeometry();
      shape.setAttribute('position', new THREE.BufferAttribute(Float32Array.from(mesh.vertices), 3));
      shape.setIndex(new THREE.BufferAttribute(Uint32Array.from(mesh.faces), 1));
      shape.computeVertexNormals();
      return shape;
    }
    default:
      return undefined;
  }
}

/** The material's colour texture, if it has one (a checker floor, a robot's decal). */
function texture(
  scene: MujocoSceneDescription,
  geom: MujocoSceneDescription['geoms'][number],
): THREE.DataTexture | undefined {
  const mat = scene.materials[geom.material];
  const tex = mat ? scene.textures[mat.texture] : undefined;
  if (!mat || !tex) return undefined;
  const { width: w, height: h, channels: n } = tex;
  const data = new Uint8Array(4 * w * h);
  for (let p = 0; p < w * h; p++) {
    for (let ch = 0; ch < 3; ch++) data[4 * p + ch] = tex.data[n * p + Math.min(ch, n - 1)]!;
    data[4 * p + 3] = n === 4 ? tex.data[4 * p + 3]! : 255;
  }
  const map = new THREE.DataTexture(data, w, h, THREE.RGBAFormat);
  map.colorSpace = THREE.SRGBColorSpace;
  map.wrapS = map.wrapT = THREE.RepeatWrapping;
  map.magFilter = THREE.NearestFilter;
  const [rx, ry] = [mat.texrepeat[0] ?? 1, mat.texrepeat[1] ?? 1];
  // Uniform: MuJoCo's renderer repeats it `texrepeat` times per 2 m (measured: a checker with
  // texrepeat 1 has 1 m squares), so `texrepeat × size` times across a plane; otherwise across it.
  if (mat.texuniform && geom.type === 'plane') map.repeat.set(rx * geom.size[0]!, ry * geom.size[1]!);
  else map.repeat.set(rx, ry);
  map.needsUpdate = true;
  return map;
}

/**
 * The geom's colour: its own `rgba`, or its material's where the geom left MuJoCo's default
 * (0.5 0.5 0.5 1), as MuJoCo's renderer chooses.
 */
function rgba(scene: MujocoSceneDescription, geom: MujocoSceneDescription['geoms'][number]): number[] {
  const own = Array.from(geom.rgba);
  const mat = scene.materials[geom.material];
  // float32 in the model: 0.5 is exact.
  const isDefault = own[0] === 0.5 && own[1] === 0.5 && own[2] === 0.5 && own[3] === 1;
  return mat && isDefault ? Array.from(mat.rgba) : own;
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
  for (const [g, geom] of scene.geoms.entries()) {
    const shape = geometry(scene, geom, infinite);
    const color = rgba(scene, geom);
    if (!shape) {
      skipped.add(geom.type);
      geoms.push(undefined);
      continue;
    }
    const map = texture(scene, geom);
    const look = {
      color: new THREE.Color().setRGB(color[0]!, color[1]!, color[2]!, THREE.SRGBColorSpace),
      transparent: color[3]! < 1,
      opacity: color[3]!,
      ...(map ? { map } : {}),
    };
    const material =
      options.shading === 'lambert'
        ? new THREE.MeshLambertMaterial(look)
        : new THREE.MeshStandardMaterial({ ...look, roughness: 0.7, metalness: 0.05 });
    disposables.push(shape, material, ...(map ? [map] : []));
    const mesh = new THREE.Mesh(shape, material);
    mesh.name = geom.name;
    mesh.userData = { type: geom.type, geom: g };
    mesh.position.copy(vec(geom.pos));
    mesh.quaternion.copy(quat(geom.quat));
    mesh.visible = groups.has(geom.group) && color[3]! > 0;
    mesh.castShadow = geom.type !== 'plane';
    mesh.receiveShadow = true;
    byId[geom.body]!.add(mesh);
    geoms.push(mesh);
    if (geom.type === 'plane' && mesh.visible) {
      const half = (geom.size[0] || infinite) * 2;
      const spacing = geom.size[2]! > 0 ? geom.size[2]! : 1;
      const divisions = Math.min(400, Math.max(1, Math.round(half / spacing)));
      const grid = new THREE.GridHelper(
        half,
        divisions,
        options.gridColor ?? 0x556070,
        options.gridColor ?? 0x556070,
      );
      grid.name = `${mesh.name}:grid`;
      // GridHelper lies in three's xz plane; the geom's plane is its xy. Lifted off the floor a hair.
      grid.rotation.x = Math.PI / 2;
      grid.position.z = 0.001;
      const lines = grid.material as THREE.Material;
      lines.transparent = true;
      lines.opacity = 0.35;
      disposables.push(grid.geometry, lines);
      mesh.add(grid);
    }
  }

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

  // MuJoCo's headlight (its defaults where the description has none): ambient in the scene, the
  // directional part for the caller to put at the camera.
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
