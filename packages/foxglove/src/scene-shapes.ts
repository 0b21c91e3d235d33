/**
 * The shapes of an MJCF scene, for `foxglove.SceneUpdate`: each body's geoms (boxes, spheres,
 * cylinders, capsules drawn as cylinders; planes as thin boxes) in the body's frame, and the world
 * body's own. A deliberately small reader of what Telekit's scenes use: `<body>`, `<geom>` with
 * `type`, `size`, `pos`, `quat` or `euler` (radians, MuJoCo's default `xyz` sequence), `rgba`.
 * Defaults classes, meshes and `fromto` are not read: such a geom is left out (the body then still
 * gets a marker where it is).
 */

export interface Vec3 {
  x: number;
  y: number;
  z: number;
}
export interface Quat {
  x: number;
  y: number;
  z: number;
  w: number;
}
export interface Shape {
  kind: 'cube' | 'sphere' | 'cylinder';
  /** Full extents, m (Foxglove's convention: a cube's sides, a sphere's or cylinder's diameter and height). */
  size: Vec3;
  /** In the body's frame. */
  position: Vec3;
  orientation: Quat;
  color: { r: number; g: number; b: number; a: number };
}

/** Shapes by body name; the world body's under `world`. */
export type SceneShapes = Map<string, Shape[]>;

const IDENTITY: Quat = { x: 0, y: 0, z: 0, w: 1 };
const GREY = { r: 0.7, g: 0.7, b: 0.7, a: 1 };

const numbers = (v: string | undefined): number[] =>
  v === undefined ? [] : v.trim().split(/\s+/).map(Number).filter(Number.isFinite);

export function multiply(a: Quat, b: Quat): Quat {
  return {
    w: a.w * b.w - a.x * b.x - a.y * b.y - a.z * b.z,
    x: a.w * b.x + a.x * b.w + a.y * b.z - a.z * b.y,
    y: a.w * b.y - a.x * b.z + a.y * b.w + a.z * b.x,
    z: a.w * b.z + a.x * b.y - a.y * b.x + a.z * b.w,
  };
}

export function rotate(q: Quat, v: Vec3): Vec3 {
  const p = multiply(multiply(q, { x: v.x, y: v.y, z: v.z, w: 0 }), { x: -q.x, y: -q.y, z: -q.z, w: q.w });
  return { x: p.x, y: p.y, z: p.z };
}

function orientation(attrs: Record<string, string>): Quat {
  const q = numbers(attrs.quat);
  // MJCF writes quaternions w first.
  if (q.length === 4) return { w: q[0]!, x: q[1]!, y: q[2]!, z: q[3]! };
  const e = numbers(attrs.euler);
  if (e.length === 3) {
    const axis = (i: number, angle: number): Quat => {
      const s = Math.sin(angle / 2);
      return { x: i === 0 ? s : 0, y: i === 1 ? s : 0, z: i === 2 ? s : 0, w: Math.cos(angle / 2) };
    };
    // Intrinsic x, then y, then z.
    return multiply(multiply(axis(0, e[0]!), axis(1, e[1]!)), axis(2, e[2]!));
  }
  return IDENTITY;
}

function shape(attrs: Record<string, string>): Shape | undefined {
  const type = attrs.type ?? 'sphere';
  const s = numbers(attrs.size);
  const p = numbers(attrs.pos);
  const c = numbers(attrs.rgba);
  const base = {
    position: { x: p[0] ?? 0, y: p[1] ?? 0, z: p[2] ?? 0 },
    orientation: orientation(attrs),
    color: c.length === 4 ? { r: c[0]!, g: c[1]!, b: c[2]!, a: c[3]! } : GREY,
  };
  if (attrs.mesh !== undefined || attrs.fromto !== undefined || attrs.class !== undefined) return undefined;
  switch (type) {
    case 'box':
      return s.length >= 3
        ? { kind: 'cube', size: { x: 2 * s[0]!, y: 2 * s[1]!, z: 2 * s[2]! }, ...base }
        : undefined;
    case 'sphere':
      return s.length >= 1
        ? { kind: 'sphere', size: { x: 2 * s[0]!, y: 2 * s[0]!, z: 2 * s[0]! }, ...base }
        : undefined;
    case 'cylinder':
    case 'capsule':
      return s.length >= 2
        ? {
            kind: 'cylinder',
            size: { x: 2 * s[0]!, y: 2 * s[0]!, z: 2 * s[1]! + (type === 'capsule' ? 2 * s[0]! : 0) },
            ...base,
          }
        : undefined;
    case 'plane':
      return s.length >= 2
        ? {
            kind: 'cube',
            size: { x: 2 * s[0]!, y: 2 * s[1]!, z: 0.001 },
            ...base,
            color: { ...base.color, a: 0.3 },
          }
        : undefined;
    default:
      return undefined;
  }
}

/** Reads the shapes of an MJCF document. */
export function sceneShapes(mjcf: string): SceneShapes {
  const out: SceneShapes = new Map();
  const text = mjcf.replace(/<!--[\s\S]*?-->/g, '');
  const world = /<worldbody\b[^>]*>([\s\S]*)<\/worldbody>/.exec(text)?.[1];
  if (world === undefined) return out;
  const stack: string[] = ['world'];
  const tag = /<(\/?)(\w+)\b((?:[^>"']|"[^"]*"|'[^']*')*?)(\/?)>/g;
  for (let m = tag.exec(world); m; m = tag.exec(world)) {
    const [, closing, name, rawAttrs = '', selfClosing] = m;
    if (closing) {
      if (name === 'body') stack.pop();
      continue;
    }
    const attrs: Record<string, string> = {};
    for (const a of rawAttrs.matchAll(/(\w+)\s*=\s*"([^"]*)"/g)) attrs[a[1]!] = a[2]!;
    if (name === 'body') {
      const body = attrs.name ?? `body${out.size}`;
      if (!selfClosing) stack.push(body);
    } else if (name === 'geom') {
      const s = shape(attrs);
      const owner = stack.at(-1)!;
      if (s) out.set(owner, [...(out.get(owner) ?? []), s]);
    }
  }
  return out;
}
