/**
 * A three.js scene built from a MuJoCo model: every geom with its type, size and colour, the
 * model's lights and a floor grid, moved from body poses. Headless (no DOM, no WebGL): the 3D view
 * renders it, a test inspects it in Node.
 *
 * @module
 */
import * as THREE from 'three';

/** Numbers as MuJoCo's WebAssembly build hands them out (typed arrays into its heap). */
type Numbers = ArrayLike<number>;

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
  /** Moves the bodies named in `poses`; the others stay where they are. */
  setBodies(poses: readonly MujocoBodyPose[]): void;
  /** Frees the geometries, materials and textures. */
  dispose(): void;
}

/** MuJoCo's `mjtGeom`, as a table of builders (the enum values are part of MuJoCo's stable ABI). */
const GEOM_TYPES = [
  'plane',
  'hfield',
  'sphere',
  'capsule',
  'ellipsoid',
  'cylinder',
  'box',
  'mesh',
  'sdf',
] as const;
/** MuJoCo's `mjtLightType`. */
const LIGHT_SPOT = 0;
const LIGHT_DIRECTIONAL = 1;
/** `mjtTextureRole.mjTEXROLE_RGB`: the colour texture among a material's texture slots. */
const TEXROLE_RGB = 1;

const decoder = new TextDecoder();

function nameAt(model: MujocoModelLike, adr: number): string {
  const names = model.names;
  let end = adr;
  while (end < names.length && names[end] !== 0) end++;
  const bytes = new Uint8Array(end - adr);
  for (let i = adr; i < end; i++) bytes[i - adr] = names[i]! & 0xff;
  return decoder.decode(bytes);
}

/** The same fallback names as `wasmSimulator`'s body states (`body_<id>`). */
function bodyName(model: MujocoModelLike, b: number): string {
  if (b === 0) return 'world';
  return nameAt(model, model.name_bodyadr[b]!) || `body_${b}`;
}

function geomName(model: MujocoModelLike, g: number): string {
  return nameAt(model, model.name_geomadr[g]!) || `geom_${g}`;
}

const quat = (q: Numbers, i: number) =>
  new THREE.Quaternion(q[4 * i + 1]!, q[4 * i + 2]!, q[4 * i + 3]!, q[4 * i]!);
const vec = (v: Numbers, i: number) => new THREE.Vector3(v[3 * i]!, v[3 * i + 1]!, v[3 * i + 2]!);

/** Geometry in the geom's own frame (MuJoCo's: capsules and cylinders along z). */
function geometry(
  model: MujocoModelLike,
  g: number,
  type: string,
  infinite: number,
): THREE.BufferGeometry | undefined {
  const s = model.geom_size;
  const [a, b, c] = [s[3 * g]!, s[3 * g + 1]!, s[3 * g + 2]!];
  switch (type) {
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
      const m = model.geom_dataid[g]!;
      if (m < 0) return undefined;
      const v0 = model.mesh_vertadr[m]!;
      const nv = model.mesh_vertnum[m]!;
      const f0 = model.mesh_faceadr[m]!;
      const nf = model.mesh_facenum[m]!;
      // Copies: the model's arrays are views into the engine's heap, which moves or goes away.
      const vertices = Float32Array.from({ length: 3 * nv }, (_, i) => model.mesh_vert[3 * v0 + i]!);
      const faces = Uint32Array.from({ length: 3 * nf }, (_, i) => model.mesh_face[3 * f0 + i]!);
      const mesh = new THREE.BufferGeometry();
      mesh.setAttribute('position', new THREE.BufferAttribute(vertices, 3));
      mesh.setIndex(new THREE.BufferAttribute(faces, 1));
      mesh.computeVertexNormals();
      return mesh;
    }
    default:
      return undefined;
  }
}

/** The material's colour texture, if it has one (a checker floor, a robot's decal). */
function texture(
  model: MujocoModelLike,
  mat: number,
  g: number,
  type: string,
): THREE.DataTexture | undefined {
  const texids = model.mat_texid;
  if (!texids || !model.tex_data || model.nmat === 0) return undefined;
  const roles = texids.length / model.nmat;
  const t = roles > 1 ? texids[mat * roles + TEXROLE_RGB]! : texids[mat]!;
  if (t === undefined || t < 0) return undefined;
  const w = model.tex_width![t]!;
  const h = model.tex_height![t]!;
  const n = model.tex_nchannel?.[t] ?? 3;
  const adr = model.tex_adr![t]!;
  const data = new Uint8Array(4 * w * h);
  for (let p = 0; p < w * h; p++) {
    for (let ch = 0; ch < 3; ch++) data[4 * p + ch] = model.tex_data[adr + n * p + Math.min(ch, n - 1)]!;
    data[4 * p + 3] = n === 4 ? model.tex_data[adr + 4 * p + 3]! : 255;
  }
  const tex = new THREE.DataTexture(data, w, h, THREE.RGBAFormat);
  tex.colorSpace = THREE.SRGBColorSpace;
  tex.wrapS = tex.wrapT = THREE.RepeatWrapping;
  tex.magFilter = THREE.NearestFilter;
  const rx = model.mat_texrepeat?.[2 * mat] ?? 1;
  const ry = model.mat_texrepeat?.[2 * mat + 1] ?? 1;
  // Uniform: repeats per metre; otherwise across the object (a plane's full size).
  const uniform = (model.mat_texuniform?.[mat] ?? 0) !== 0;
  if (uniform && type === 'plane')
    tex.repeat.set(rx * 2 * model.geom_size[3 * g]!, ry * 2 * model.geom_size[3 * g + 1]!);
  else tex.repeat.set(rx, ry);
  tex.needsUpdate = true;
  return tex;
}

/**
 * The geom's colour: its own `rgba`, or its material's where the geom left MuJoCo's default
 * (0.5 0.5 0.5 1), as MuJoCo's renderer chooses.
 */
function rgba(model: MujocoModelLike, g: number): [number, number, number, number] {
  const own: [number, number, number, number] = [0, 1, 2, 3].map((k) => model.geom_rgba[4 * g + k]!) as never;
  const mat = model.geom_matid[g]!;
  const isDefault = own[0] === 0.5 && own[1] === 0.5 && own[2] === 0.5 && own[3] === 1;
  if (mat >= 0 && isDefault) return [0, 1, 2, 3].map((k) => model.mat_rgba[4 * mat + k]!) as never;
  return own;
}

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
 * boolean arrays) is left out, as an optional field would be.
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
      const value = model[field] as Numbers | undefined;
      if (value !== undefined) copy[field] = Array.isArray(value) ? value : Array.from(value);
    } catch {
      // Optional in the model's description: drawn with defaults.
    }
  }
  return copy as unknown as MujocoModelLike;
}

/** Each body's pose at the model's reference configuration (`qpos0`), composed down the tree. */
function restPoses(model: MujocoModelLike): THREE.Matrix4[] {
  const world: THREE.Matrix4[] = [new THREE.Matrix4()];
  for (let b = 1; b < model.nbody; b++) {
    const local = new THREE.Matrix4().compose(
      vec(model.body_pos, b),
      quat(model.body_quat, b),
      new THREE.Vector3(1, 1, 1),
    );
    world.push(world[model.body_parentid[b]!]!.clone().multiply(local));
  }
  return world;
}

/**
 * Builds the three.js scene of a MuJoCo model, in the order MuJoCo's own renderer draws it:
 *
 * 1. one group per body, placed at the model's rest pose (the world's geoms stay there);
 * 2. one mesh per geom of a drawn group (see `groups`), in its body at the geom's local pose, with
 *    its type and size (plane, sphere, capsule, ellipsoid, cylinder, box, mesh from
 *    `mesh_vert`/`mesh_face`; height fields and SDF are listed in `skipped`), its colour (the geom's
 *    `rgba`, else its material's), its material's colour texture (a checker floor) and transparency;
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
export function buildMujocoScene(source: MujocoModelLike, options: MujocoSceneOptions = {}): MujocoScene {
  const model = snapshot(source);
  const groups = new Set(options.groups ?? [0, 1, 2]);
  const infinite = options.infinitePlane ?? 50;
  const root = new THREE.Group();
  root.name = 'mujoco';
  const bodies = new Map<string, THREE.Group>();
  const byId: THREE.Group[] = [];
  const rest = restPoses(model);
  for (let b = 0; b < model.nbody; b++) {
    const group = new THREE.Group();
    group.name = bodyName(model, b);
    rest[b]!.decompose(group.position, group.quaternion, group.scale);
    root.add(group);
    byId.push(group);
    bodies.set(group.name, group);
  }

  const geoms: (THREE.Mesh | undefined)[] = [];
  const skipped = new Set<string>();
  const disposables: { dispose(): void }[] = [];
  for (let g = 0; g < model.ngeom; g++) {
    const type = GEOM_TYPES[model.geom_type[g]!] ?? `type ${model.geom_type[g]}`;
    const shape = geometry(model, g, type, infinite);
    const color = rgba(model, g);
    if (!shape) {
      skipped.add(type);
      geoms.push(undefined);
      continue;
    }
    const mat = model.geom_matid[g]!;
    const map = mat >= 0 ? texture(model, mat, g, type) : undefined;
    const look = {
      color: new THREE.Color().setRGB(color[0], color[1], color[2], THREE.SRGBColorSpace),
      transparent: color[3] < 1,
      opacity: color[3],
      ...(map ? { map } : {}),
    };
    const material =
      options.shading === 'lambert'
        ? new THREE.MeshLambertMaterial(look)
        : new THREE.MeshStandardMaterial({ ...look, roughness: 0.7, metalness: 0.05 });
    disposables.push(shape, material, ...(map ? [map] : []));
    const mesh = new THREE.Mesh(shape, material);
    mesh.name = geomName(model, g);
    mesh.userData = { type, geom: g };
    mesh.position.copy(vec(model.geom_pos, g));
    mesh.quaternion.copy(quat(model.geom_quat, g));
    mesh.visible = groups.has(model.geom_group[g]!) && color[3] > 0;
    mesh.castShadow = type !== 'plane';
    mesh.receiveShadow = true;
    byId[model.geom_bodyid[g]!]!.add(mesh);
    geoms.push(mesh);
    if (type === 'plane' && mesh.visible) {
      const half = (model.geom_size[3 * g] || infinite) * 2;
      const spacing = model.geom_size[3 * g + 2]! > 0 ? model.geom_size[3 * g + 2]! : 1;
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

  for (let l = 0; l < model.nlight; l++) {
    if (model.light_active && !model.light_active[l]) continue;
    const type = model.light_type?.[l] ?? LIGHT_SPOT;
    const diffuse = new THREE.Color(
      model.light_diffuse[3 * l]!,
      model.light_diffuse[3 * l + 1]!,
      model.light_diffuse[3 * l + 2]!,
    );
    const pos = vec(model.light_pos, l);
    const dir = vec(model.light_dir, l);
    const light =
      type === LIGHT_DIRECTIONAL
        ? new THREE.DirectionalLight(diffuse, 1.5)
        : type === LIGHT_SPOT
          ? new THREE.SpotLight(diffuse, 3, 0, Math.PI / 4, 0.5, 0)
          : new THREE.PointLight(diffuse, 3, 0, 0);
    light.name = `light_${l}`;
    light.position.copy(pos);
    const body = byId[model.light_bodyid?.[l] ?? 0]!;
    body.add(light);
    if (light instanceof THREE.DirectionalLight || light instanceof THREE.SpotLight) {
      light.target.position.copy(pos.clone().add(dir));
      body.add(light.target);
    }
  }

  return {
    root,
    bodies,
    geoms,
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
