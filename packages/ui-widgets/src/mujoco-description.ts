/**
 * What a MuJoCo scene looks like as plain data ({@link MujocoSceneDescription}): the one shape the
 * 3D view builds from in both modes, and the server's `/telemetry/sim_scene` message decoded into it
 * ({@link sceneFromMessage}: meshes and textures from base64). Types and decoding only; no three.js.
 *
 * @module
 */
import type { SimScene } from '@telekit/core/schemas';

/** Numbers as MuJoCo's WebAssembly build hands them out (typed arrays into its heap). */
export type MujocoNumbers = ArrayLike<number>;

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
