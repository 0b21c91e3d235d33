import {
  CompressedVideo,
  FrameTransform,
  JointStates,
  Log,
  PoseInFrame,
  SceneUpdate,
} from '@foxglove/schemas/jsonschema';
import { type JointState, type Pose, type Topic, Topics, type Transport } from '@telekit/core';
import { type Actuation, type Diagnostics, protocolSchemas, type SimState } from '@telekit/core/schemas';
import { map, type Observable } from 'rxjs';
import * as z from 'zod';
import { multiply, rotate, type SceneShapes, type Shape } from './scene-shapes.js';
import { fromMs } from './wire.js';

/** One message of a channel: when it was stamped (ms, in the endpoint's time base) and its JSON. */
export interface ChannelMessage {
  readonly stampMs: number;
  readonly json: unknown;
  /** Video: a picture a decoder can start from. */
  readonly keyframe?: boolean;
}

/**
 * A channel the endpoint advertises: what Foxglove sees (topic, schema), which gateway topic's
 * allow-list decides who may subscribe, and where its messages come from — opened on the first
 * subscription and closed on the last.
 */
export interface ChannelSpec {
  readonly topic: string;
  readonly schemaName: string;
  readonly schema: Record<string, unknown>;
  /** The gateway topic whose `subscribe` rule admits a subscriber. */
  readonly governedBy: string;
  /** A video channel: each subscriber starts at a keyframe, and a slow one skips to the next. */
  readonly video?: boolean;
  open(): Observable<ChannelMessage>;
}

/** What the channels are made from. */
export interface ChannelSources {
  transport: Transport;
  /** The app's telemetry topics to advertise (core's built-in ones, plus the app's own). */
  telemetry: readonly Topic[];
  /** The simulated clock when the app runs a simulator: every stamp is then in simulated time. */
  time: TimeBase;
  /** The frame the robot base's pose is given in is the parent; this is the child frame. */
  baseFrame: string;
  /** The scene's shapes by body (from its MJCF), for `/scene`; without them each body is a small cube. */
  shapes?: SceneShapes;
  /** Video streams with their access units, when the media plugin is there. */
  video?: {
    streams: readonly { id: string; width: number; height: number }[];
    units$(stream: string): Observable<{ data: Uint8Array; keyframe: boolean; receivedAt: number }>;
  };
}

/** The endpoint's clock for stamps: the wall clock, or the simulator's time as `/telemetry/sim_state` reports it. */
export interface TimeBase {
  readonly simulated: boolean;
  /** A message's stamp in this time base, from its header stamp (wall ms). */
  stamp(headerStampMs: number): number;
}

const published = protocolSchemas();

/**
 * A topic's JSON Schema: core's published one for the built-in topics (the files under
 * docs/protocol, never written twice), the same conversion of its zod schema for an app's own.
 */
export function schemaOf(topic: Topic): Record<string, unknown> {
  const file = `${topic.name.slice(1).replaceAll('/', '.')}.schema.json`;
  const builtin = Object.values(Topics).some((t) => t.name === topic.name);
  const doc = builtin ? published[file] : undefined;
  const schema =
    doc ??
    (z.toJSONSchema(topic.schema, { target: 'draft-2020-12', io: 'input', unrepresentable: 'any' }) as Record<
      string,
      unknown
    >);
  // Keep the schema, not the documentation around it (examples, Telekit's lane metadata).
  const { examples: _e, 'x-telekit': _x, ...rest } = schema as Record<string, unknown>;
  return { ...rest, title: topic.name, description: topic.description };
}

/** The standard Foxglove schemas the channels use, as `@foxglove/schemas` publishes them. */
const standardSchemas = { CompressedVideo, FrameTransform, JointStates, Log, PoseInFrame, SceneUpdate };
const standard = (name: keyof typeof standardSchemas) =>
  standardSchemas[name] as unknown as Record<string, unknown>;

/** A topic's messages with their stamps mapped to the time base. */
function feed<T extends { header: { stamp: number } }>(
  s: ChannelSources,
  topic: Topic<T>,
): Observable<{ msg: T; stampMs: number }> {
  return s.transport
    .subscribe(topic, { depth: topic.depth })
    .pipe(map((msg) => ({ msg, stampMs: s.time.stamp(msg.header.stamp) })));
}

/** A channel computed from one Telekit topic: each of its messages, at its stamp, made into `json`. */
function derived<T extends { header: { stamp: number } }>(
  s: ChannelSources,
  from: Topic<T>,
  channel: { topic: string; schemaName: string; schema: Record<string, unknown> },
  toJson: (msg: T, stampMs: number) => unknown,
): ChannelSpec {
  return {
    ...channel,
    governedBy: from.name,
    open: () => feed(s, from).pipe(map(({ msg, stampMs }) => ({ stampMs, json: toJson(msg, stampMs) }))),
  };
}

/** A standard Foxglove schema's channel spec fields. */
const foxgloveSchema = (topic: string, name: keyof typeof standardSchemas) => ({
  topic,
  schemaName: `foxglove.${name}`,
  schema: standard(name),
});

/**
 * The channels: every telemetry topic with its own schema, and the standard Foxglove messages the
 * panels need, derived from them — the base's pose as `foxglove.FrameTransform` (`/tf`) and
 * `foxglove.PoseInFrame` (`/pose`), joint states as `foxglove.JointStates`, the simulator's bodies
 * as `foxglove.SceneUpdate`, the diagnostics as `foxglove.Log` lines, each command's
 * input→actuation in ms (`/input_to_actuation`, for the Plot panel), and each H.264 stream as
 * `foxglove.CompressedVideo`.
 */
export function channelSpecs(s: ChannelSources): ChannelSpec[] {
  const specs: ChannelSpec[] = s.telemetry.map((topic) => ({
    topic: topic.name,
    schemaName: topic.name,
    schema: schemaOf(topic),
    governedBy: topic.name,
    open: () =>
      feed(s, topic as Topic<{ header: { stamp: number } }>).pipe(
        map(({ msg, stampMs }) => ({ stampMs, json: msg })),
      ),
  }));
  const has = (t: Topic) => s.telemetry.some((x) => x.name === t.name);

  if (has(Topics.pose)) {
    specs.push(
      derived(s, Topics.pose, foxgloveSchema('/tf', 'FrameTransform'), (msg: Pose, stampMs) => ({
        timestamp: fromMs(stampMs),
        parent_frame_id: msg.frame,
        child_frame_id: s.baseFrame,
        translation: msg.position,
        rotation: msg.orientation,
      })),
      derived(s, Topics.pose, foxgloveSchema('/pose', 'PoseInFrame'), (msg: Pose, stampMs) => ({
        timestamp: fromMs(stampMs),
        frame_id: msg.frame,
        pose: { position: msg.position, orientation: msg.orientation },
      })),
    );
  }
  if (has(Topics.jointState)) {
    specs.push(
      derived(
        s,
        Topics.jointState,
        foxgloveSchema('/joint_states', 'JointStates'),
        (msg: JointState, stampMs) => ({
          timestamp: fromMs(stampMs),
          joints: msg.name.map((name, i) => ({
            name,
            position: msg.position[i] ?? 0,
            ...(msg.velocity ? { velocity: msg.velocity[i] ?? 0 } : {}),
            ...(msg.effort ? { effort: msg.effort[i] ?? 0 } : {}),
          })),
        }),
      ),
    );
  }
  if (has(Topics.simState)) {
    specs.push(
      derived(s, Topics.simState, foxgloveSchema('/scene', 'SceneUpdate'), (msg: SimState, stampMs) =>
        sceneUpdate(msg, stampMs, s.shapes),
      ),
    );
  }
  if (has(Topics.diagnostics)) {
    specs.push(
      derived(
        s,
        Topics.diagnostics,
        foxgloveSchema('/diagnostics/log', 'Log'),
        (msg: Diagnostics, stampMs) => ({
          timestamp: fromMs(stampMs),
          // foxglove.LogLevel: 2 info, 3 warning, 4 error.
          level: Math.max(2, ...msg.status.map((st) => LOG_LEVEL[st.level])),
          message: msg.status.map((st) => `${st.name}: ${st.level} ${st.message}`).join('; '),
          name: 'diagnostics',
          file: '',
          line: 0,
        }),
      ),
    );
  }
  if (has(Topics.actuation)) {
    const channel = {
      topic: '/input_to_actuation',
      schemaName: 'telekit.InputToActuation',
      schema: INPUT_TO_ACTUATION,
    };
    specs.push(
      derived(s, Topics.actuation, channel, (msg: Actuation, stampMs) => ({
        timestamp: fromMs(stampMs),
        topic: msg.command.topic,
        sender: msg.command.sender,
        fate: msg.fate,
        // The gateway stamps admitted commands on its own clock, as it does for its metric.
        latency_ms: msg.actuatedAt - msg.command.stamp,
      })),
    );
  }
  const video = s.video;
  for (const stream of video?.streams ?? []) {
    specs.push({
      ...foxgloveSchema(`/video/${stream.id}`, 'CompressedVideo'),
      governedBy: Topics.mediaStreams.name,
      video: true,
      open: () =>
        video!.units$(stream.id).pipe(
          map((au) => {
            const stampMs = s.time.stamp(au.receivedAt);
            return {
              stampMs,
              keyframe: au.keyframe,
              json: {
                timestamp: fromMs(stampMs),
                frame_id: stream.id,
                data: Buffer.from(au.data.buffer, au.data.byteOffset, au.data.byteLength).toString('base64'),
                format: 'h264',
              },
            };
          }),
        ),
    });
  }
  return specs;
}

/** A plottable input→actuation figure per command (Foxglove's Plot panel plots fields, not differences). */
const INPUT_TO_ACTUATION: Record<string, unknown> = {
  $schema: 'https://json-schema.org/draft/2020-12/schema',
  title: 'telekit.InputToActuation',
  description: 'Each command from its stamp to where it acted, ms (from /telemetry/actuation).',
  type: 'object',
  properties: {
    timestamp: {
      type: 'object',
      properties: { sec: { type: 'integer', minimum: 0 }, nsec: { type: 'integer', minimum: 0 } },
      required: ['sec', 'nsec'],
    },
    topic: { type: 'string' },
    sender: { type: 'string' },
    fate: { type: 'string', enum: ['applied', 'superseded', 'expired', 'estop', 'refused'] },
    latency_ms: { type: 'number' },
  },
  required: ['timestamp', 'topic', 'sender', 'fate', 'latency_ms'],
};

const LOG_LEVEL = { ok: 2, warn: 3, error: 4, stale: 3 } as const;

/** The body's shapes placed in the world at the body's pose, as Foxglove primitives by kind. */
function primitives(
  shapes: readonly Shape[],
  at: { position: Shape['position']; orientation: Shape['orientation'] },
) {
  const out = { cubes: [] as unknown[], spheres: [] as unknown[], cylinders: [] as unknown[] };
  for (const sh of shapes) {
    const offset = rotate(at.orientation, sh.position);
    const primitive = {
      pose: {
        position: { x: at.position.x + offset.x, y: at.position.y + offset.y, z: at.position.z + offset.z },
        orientation: multiply(at.orientation, sh.orientation),
      },
      size: sh.size,
      color: sh.color,
    };
    if (sh.kind === 'cylinder') out.cylinders.push({ ...primitive, bottom_scale: 1, top_scale: 1 });
    else (sh.kind === 'cube' ? out.cubes : out.spheres).push(primitive);
  }
  return out;
}

const MARKER: Shape = {
  kind: 'cube',
  size: { x: 0.1, y: 0.1, z: 0.1 },
  position: { x: 0, y: 0, z: 0 },
  orientation: { x: 0, y: 0, z: 0, w: 1 },
  color: { r: 0.2, g: 0.6, b: 1, a: 0.8 },
};

/**
 * The simulator's bodies as a scene, in the world frame: one entity per body with its shapes from
 * the scene's MJCF where they were given (else a small cube at its pose: the telemetry carries
 * poses, not shapes), and the world body's own shapes (the floor, markers).
 */
function sceneUpdate(msg: SimState, stampMs: number, shapes: SceneShapes | undefined) {
  const timestamp = fromMs(stampMs);
  const entity = (id: string, prims: ReturnType<typeof primitives>) => ({
    timestamp,
    frame_id: 'world',
    id,
    lifetime: { sec: 0, nsec: 0 },
    frame_locked: false,
    metadata: [{ key: 'scene', value: msg.scene }],
    arrows: [],
    ...prims,
    lines: [],
    triangles: [],
    texts: [],
    models: [],
  });
  const world = shapes?.get('world');
  return {
    deletions: [],
    entities: [
      ...(world
        ? [
            entity(
              'world',
              primitives(world, { position: { x: 0, y: 0, z: 0 }, orientation: MARKER.orientation }),
            ),
          ]
        : []),
      ...msg.bodies.map((b) => entity(b.name, primitives(shapes?.get(b.name) ?? [MARKER], b))),
    ],
  };
}
