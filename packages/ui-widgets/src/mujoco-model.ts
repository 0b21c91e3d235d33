/**
 * Reading a MuJoCo model: the fields of MuJoCo WebAssembly's `MjModel` the 3D view needs
 * ({@link MujocoModelLike}), copied out of the engine's heap once, and turned into a
 * {@link MujocoSceneDescription} ({@link describeMujocoModel}) — browser mode's path to the scene.
 *
 * @module
 */
import type { MujocoGeomType, MujocoNumbers, MujocoSceneDescription } from './mujoco-description.js';

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
