import { TelekitError } from '@telekit/core';

/**
 * One number of `observation.state` or `action`: the topic it is read from and where in the message.
 *
 * `path` walks the message's JSON: `position.x`; `orientation.yaw` (also `roll`, `pitch`: the
 * angle of a quaternion `{x, y, z, w}`); `position[left_wheel]` (the entry of the message's own
 * `name` list, as `JointState` and `JointCommand` carry); `position[0]`; and `position[*]`, which
 * stands for one field per name the recording's messages on that topic carry, in the order first seen.
 */
export interface LeRobotField {
  /** Its entry in the feature's `names`. Default: the path (`position.x`), or `<name>.<key>` for `[*]` (`left_wheel.velocity`). */
  name?: string;
  /** The topic, e.g. `/telemetry/pose`. */
  topic: string;
  /** Where in the message, e.g. `orientation.yaw`. */
  path: string;
  /** Its value before the topic's first sample. Default: the first sample, held backwards. */
  before?: number;
  /**
   * Before the topic's first sample, the value of this other field instead (sample-and-hold too); a
   * `[*]` in its path stands for the same name as in `path`. E.g. a joint's target is its measured
   * position until the operator first moves it.
   */
  beforeFrom?: { topic: string; path: string };
  /** Leave the field out when the recording has no sample of it (a preset's "what telemetry has"). Default false: an error. */
  optional?: boolean;
}

/**
 * What becomes `observation.state` and `action`. Each field is resampled onto the dataset's fps grid
 * by sample-and-hold: at each tick, its latest sample at or before the tick (a command holds until
 * the next one). Commands that their actuator reported as not applied (`/telemetry/actuation`:
 * superseded, expired, estop, refused) never become an action.
 */
export interface LeRobotMapping {
  state: readonly LeRobotField[];
  action: readonly LeRobotField[];
  /** `robot_type` in `meta/info.json`. */
  robotType?: string;
}

/**
 * The diff-drive scene: state is the base pose (x, y, yaw) and what else its telemetry has (the
 * wheels' velocities from `/telemetry/joint_state`, the base's velocities from the pose); action is
 * the operator's twist (linear.x, angular.z), zero before the first command.
 */
export const DIFF_DRIVE_MAPPING: LeRobotMapping = {
  robotType: 'telekit-diff-drive',
  state: [
    { name: 'x', topic: '/telemetry/pose', path: 'position.x' },
    { name: 'y', topic: '/telemetry/pose', path: 'position.y' },
    { name: 'yaw', topic: '/telemetry/pose', path: 'orientation.yaw' },
    { topic: '/telemetry/joint_state', path: 'velocity[*]', optional: true },
    { name: 'linear.x', topic: '/telemetry/pose', path: 'linear.x', optional: true },
    { name: 'angular.z', topic: '/telemetry/pose', path: 'angular.z', optional: true },
  ],
  action: [
    { name: 'linear.x', topic: '/controller/twist', path: 'linear.x', before: 0 },
    { name: 'angular.z', topic: '/controller/twist', path: 'angular.z', before: 0 },
  ],
};

/**
 * The arm scene: state is every joint's position (`/telemetry/joint_state`), action every joint's
 * target (`/controller/joints` positions; a joint holds its measured position until its first target).
 */
export const ARM_MAPPING: LeRobotMapping = {
  robotType: 'telekit-arm',
  state: [{ topic: '/telemetry/joint_state', path: 'position[*]' }],
  action: [
    {
      topic: '/controller/joints',
      path: 'position[*]',
      beforeFrom: { topic: '/telemetry/joint_state', path: 'position[*]' },
    },
  ],
};

/** The named mappings the CLI's `--preset` takes (`auto`: arm when the recording has joint targets, or joint states and no pose; else diff-drive). */
export const LEROBOT_PRESETS: Readonly<Record<'diff-drive' | 'arm', LeRobotMapping>> = {
  'diff-drive': DIFF_DRIVE_MAPPING,
  arm: ARM_MAPPING,
};

type Token = { key: string } | { index: string };

function tokens(path: string): Token[] {
  const out: Token[] = [];
  const re = /([^.[\]]+)|\[([^\]]*)\]/g;
  let consumed = 0;
  for (let m = re.exec(path); m; m = re.exec(path)) {
    if (m.index !== consumed && path[consumed] === '.') consumed++;
    if (m.index !== consumed) break;
    consumed = m.index + m[0].length;
    out.push(m[1] !== undefined ? { key: m[1] } : { index: m[2] ?? '' });
  }
  if (consumed !== path.length || out.length === 0)
    throw new TelekitError('E_VALIDATION', `not a field path [path:${path}]`, {
      context: { field: 'path', expected: 'e.g. position.x, orientation.yaw, position[left_wheel]' },
    });
  return out;
}

const isQuat = (v: unknown): v is { x: number; y: number; z: number; w: number } =>
  typeof v === 'object' &&
  v !== null &&
  ['x', 'y', 'z', 'w'].every((k) => typeof (v as never)[k] === 'number');

function angle(q: { x: number; y: number; z: number; w: number }, which: string): number | undefined {
  const { x, y, z, w } = q;
  if (which === 'yaw') return Math.atan2(2 * (w * z + x * y), 1 - 2 * (y * y + z * z));
  if (which === 'roll') return Math.atan2(2 * (w * x + y * z), 1 - 2 * (x * x + y * y));
  if (which === 'pitch') return Math.asin(Math.max(-1, Math.min(1, 2 * (w * y - z * x))));
  return undefined;
}

/** A compiled field path: the value it reads from a message, or undefined when the message lacks it. */
export type FieldReader = (message: unknown) => number | undefined;

/** Compiles a path without `[*]` into a reader. */
export function fieldReader(path: string): FieldReader {
  const toks = tokens(path);
  return (message) => {
    let parent: unknown;
    let cur: unknown = message;
    for (const t of toks) {
      if (cur === null || typeof cur !== 'object') return undefined;
      let next: unknown;
      if ('key' in t) {
        next = (cur as Record<string, unknown>)[t.key];
        if (next === undefined && isQuat(cur)) next = angle(cur, t.key);
      } else if (Array.isArray(cur)) {
        const i = /^\d+$/.test(t.index)
          ? Number(t.index)
          : ((parent as { name?: unknown } | undefined)?.name as unknown[] | undefined)?.indexOf?.(t.index);
        next = i === undefined || i < 0 ? undefined : cur[i];
      }
      parent = cur;
      cur = next;
    }
    return typeof cur === 'number' && Number.isFinite(cur) ? cur : undefined;
  };
}

/** A field with its path resolved (no `[*]`), ready to read. */
export interface ResolvedField {
  readonly name: string;
  readonly topic: string;
  readonly path: string;
  readonly before: number | undefined;
  readonly read: FieldReader;
  /** What stands in before the first sample (`beforeFrom`). */
  readonly beforeFrom: { readonly topic: string; readonly read: FieldReader } | undefined;
}

/**
 * Expands `[*]` against the messages of the field's topic (every name they carry, in the order first
 * seen), drops optional fields the recording has no sample of, and names every field; an error names a
 * required field with no sample.
 */
export function resolveFields(
  fields: readonly LeRobotField[],
  messagesOf: (topic: string) => readonly unknown[],
  feature: string,
): ResolvedField[] {
  const out: ResolvedField[] = [];
  for (const f of fields) {
    const messages = messagesOf(f.topic);
    const star = f.path.indexOf('[*]');
    const paths: { path: string; name: string; key?: string }[] = [];
    if (star >= 0) {
      const head = f.path.slice(0, star);
      const listKey = head.split('.').pop() ?? head;
      const names: string[] = [];
      const seen = new Set<string>();
      for (const m of messages) {
        const list = (m as { name?: unknown }).name;
        if (!Array.isArray(list)) continue;
        for (const n of list)
          if (typeof n === 'string' && !seen.has(n)) {
            seen.add(n);
            names.push(n);
          }
      }
      for (const n of names) {
        const path = f.path.replace('[*]', `[${n}]`);
        paths.push({ path, name: f.name ? `${f.name}.${n}` : `${n}.${listKey}`, key: n });
      }
    } else paths.push({ path: f.path, name: f.name ?? f.path });
    for (const p of paths) {
      const read = fieldReader(p.path);
      if (!messages.some((m) => read(m) !== undefined)) {
        if (f.optional) continue;
        throw new TelekitError(
          'E_VALIDATION',
          `the recording has no sample of ${feature} field ${p.name} [topic:${f.topic}] [path:${p.path}]`,
          { context: { field: feature, expected: `messages on ${f.topic} with ${p.path}` } },
        );
      }
      const beforeFrom = f.beforeFrom && {
        topic: f.beforeFrom.topic,
        read: fieldReader(
          p.key === undefined ? f.beforeFrom.path : f.beforeFrom.path.replace('[*]', `[${p.key}]`),
        ),
      };
      out.push({ name: p.name, topic: f.topic, path: p.path, before: f.before, read, beforeFrom });
    }
    if (paths.length === 0 && !f.optional)
      throw new TelekitError(
        'E_VALIDATION',
        `the recording has no names for ${feature} field ${f.path} [topic:${f.topic}]`,
        { context: { field: feature, expected: `messages on ${f.topic} with a name list` } },
      );
  }
  const names = new Set<string>();
  for (const f of out) {
    if (names.has(f.name))
      throw new TelekitError('E_VALIDATION', `two ${feature} fields are named ${f.name}`, {
        context: { field: feature, expected: 'distinct names (give each field a name)' },
      });
    names.add(f.name);
  }
  if (out.length === 0)
    throw new TelekitError('E_VALIDATION', `${feature} has no field the recording has samples of`, {
      context: { field: feature },
    });
  return out;
}

/**
 * Parses the CLI's field list: comma-separated `[name=]topic:path[@before]`, e.g.
 * `x=/telemetry/pose:position.x,/telemetry/pose:orientation.yaw,/controller/twist:linear.x@0`.
 */
export function parseFieldList(text: string, flag: string): LeRobotField[] {
  const out: LeRobotField[] = [];
  for (const raw of text.split(',')) {
    const item = raw.trim();
    if (!item) continue;
    const m = /^(?:([^=]+)=)?(\/[^:]+):([^@]+)(?:@(-?[\d.eE+-]+))?$/.exec(item);
    if (!m)
      throw new TelekitError('E_VALIDATION', `${flag}: not a field [item:${item}]`, {
        context: { field: flag, expected: '[name=]/topic:path[@before], e.g. /telemetry/pose:position.x' },
      });
    const field: LeRobotField = { topic: m[2]!, path: m[3]! };
    tokens(field.path);
    if (m[1]) field.name = m[1];
    if (m[4] !== undefined) field.before = Number(m[4]);
    out.push(field);
  }
  return out;
}
