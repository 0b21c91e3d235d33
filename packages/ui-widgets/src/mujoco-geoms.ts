/**
 * How one MuJoCo geom looks in three.js: its shape in its own frame (plane, sphere, capsule,
 * ellipsoid, cylinder, box, mesh), its colour (its own or its material's, as MuJoCo's renderer
 * chooses), its material's colour texture, and a grid on a plane — put together by
 * {@link geomMesh}. Also MuJoCo's vectors and quaternions as three's. `buildMujocoScene` places
 * the meshes in their bodies.
 *
 * @module
 */
import * as THREE from 'three';
import type { MujocoNumbers, MujocoSceneDescription } from './mujoco-description.js';

/** A geom of a scene description. */
type Geom = MujocoSceneDescription['geoms'][number];

/** MuJoCo's quaternion (w, x, y, z) as three's. */
export const quat = (q: MujocoNumbers) => new THREE.Quaternion(q[1]!, q[2]!, q[3]!, q[0]!);
export const vec = (v: MujocoNumbers) => new THREE.Vector3(v[0]!, v[1]!, v[2]!);

/** What {@link geomMesh} needs of the scene's options (`MujocoSceneOptions`), defaults applied. */
export interface GeomLook {
  /** Geom groups drawn. */
  readonly groups: ReadonlySet<number>;
  /** Half size of an infinite plane, m. */
  readonly infinite: number;
  readonly shading?: 'standard' | 'lambert' | undefined;
  readonly gridColor?: THREE.ColorRepresentation | undefined;
}

/**
 * The mesh of geom `g` in its body's frame: its shape, colour, texture and transparency; hidden
 * when its group is not drawn or it is fully transparent; a grid on a visible plane (1 m, or the
 * plane's third size), so distances read on the floor. `undefined` for a type that is not drawn
 * (height fields, SDF). Everything it allocates is pushed on `disposables`.
 */
export function geomMesh(
  scene: MujocoSceneDescription,
  geom: Geom,
  g: number,
  look: GeomLook,
  disposables: { dispose(): void }[],
): THREE.Mesh | undefined {
  const shape = geometry(scene, geom, look.infinite);
  const color = rgba(scene, geom);
  if (!shape) return undefined;
  const map = texture(scene, geom);
  const params = {
    color: new THREE.Color().setRGB(color[0]!, color[1]!, color[2]!, THREE.SRGBColorSpace),
    transparent: color[3]! < 1,
    opacity: color[3]!,
    ...(map ? { map } : {}),
  };
  const material =
    look.shading === 'lambert'
      ? new THREE.MeshLambertMaterial(params)
      : new THREE.MeshStandardMaterial({ ...params, roughness: 0.7, metalness: 0.05 });
  disposables.push(shape, material, ...(map ? [map] : []));
  const mesh = new THREE.Mesh(shape, material);
  mesh.name = geom.name;
  mesh.userData = { type: geom.type, geom: g };
  mesh.position.copy(vec(geom.pos));
  mesh.quaternion.copy(quat(geom.quat));
  mesh.visible = look.groups.has(geom.group) && color[3]! > 0;
  mesh.castShadow = geom.type !== 'plane';
  mesh.receiveShadow = true;
  if (geom.type === 'plane' && mesh.visible) {
    const half = (geom.size[0] || look.infinite) * 2;
    const spacing = geom.size[2]! > 0 ? geom.size[2]! : 1;
    const divisions = Math.min(400, Math.max(1, Math.round(half / spacing)));
    const grid = new THREE.GridHelper(
      half,
      divisions,
      look.gridColor ?? 0x556070,
      look.gridColor ?? 0x556070,
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
  return mesh;
}

/** Geometry in the geom's own frame (MuJoCo's: capsules and cylinders along z). */
function geometry(
  scene: MujocoSceneDescription,
  geom: Geom,
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
function texture(scene: MujocoSceneDescription, geom: Geom): THREE.DataTexture | undefined {
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
function rgba(scene: MujocoSceneDescription, geom: Geom): number[] {
  const own = Array.from(geom.rgba);
  const mat = scene.materials[geom.material];
  // float32 in the model: 0.5 is exact.
  const isDefault = own[0] === 0.5 && own[1] === 0.5 && own[2] === 0.5 && own[3] === 1;
  return mat && isDefault ? Array.from(mat.rgba) : own;
}
