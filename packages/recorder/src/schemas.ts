import { CompressedVideo } from '@foxglove/schemas/jsonschema';
import { type Topic, Topics } from '@telekit/core';
import { protocolSchemas } from '@telekit/core/schemas';
import * as z from 'zod';
import type { ChannelDef } from './mcap-file.js';

const published = protocolSchemas();
const builtin = new Set<string>(Object.values(Topics).map((t) => t.name));

/**
 * A topic's channel: core's published JSON Schema for a built-in topic (the documents under
 * docs/protocol, never written twice), the same conversion of its zod schema for an app's own.
 */
export function topicChannel(topic: Topic): ChannelDef {
  const file = `${topic.name.slice(1).replaceAll('/', '.')}.schema.json`;
  const doc = builtin.has(topic.name) ? published[file] : undefined;
  const schema =
    doc ??
    (z.toJSONSchema(topic.schema, { target: 'draft-2020-12', io: 'input', unrepresentable: 'any' }) as Record<
      string,
      unknown
    >);
  // The schema, not the documentation around it (examples, Telekit's lane metadata).
  const { examples: _e, 'x-telekit': _x, ...rest } = schema as Record<string, unknown>;
  return {
    topic: topic.name,
    schemaName: topic.name,
    schema: { ...rest, title: topic.name, description: topic.description },
  };
}

/** A video stream's channel: `foxglove.CompressedVideo` from `@foxglove/schemas` (JSON, data in base64). */
export function videoChannel(stream: string): ChannelDef {
  return {
    topic: `/video/${stream}`,
    schemaName: 'foxglove.CompressedVideo',
    schema: CompressedVideo as unknown as Record<string, unknown>,
  };
}

/** `/recorder/link`: the app transport's link state and faults. */
export const LINK_CHANNEL: ChannelDef = {
  topic: '/recorder/link',
  schemaName: 'telekit.recorder.Link',
  schema: {
    type: 'object',
    description:
      "The app transport's link: each state change (status, reason) and each fault (code, message, topic).",
    properties: {
      kind: { enum: ['state', 'fault'] },
      status: { type: 'string' },
      reason: { type: 'string' },
      code: { type: 'string' },
      message: { type: 'string' },
      topic: { type: 'string' },
      field: { type: 'string' },
    },
    required: ['kind'],
  },
};

/** `/recorder/episode`: an episode's start or stop, with its task. */
export const EPISODE_CHANNEL: ChannelDef = {
  topic: '/recorder/episode',
  schemaName: 'telekit.recorder.Episode',
  schema: {
    type: 'object',
    description:
      "An episode's boundary: `start` (and `continue` at the top of a file rotated mid-episode) and `stop`, with its index and task.",
    properties: {
      event: { enum: ['start', 'continue', 'stop'] },
      index: { type: 'integer', minimum: 0 },
      task: { type: 'string' },
      startedAt: { type: 'number', description: 'ms since the epoch' },
      stoppedAt: { type: 'number', description: 'ms since the epoch' },
    },
    required: ['event', 'index', 'task', 'startedAt'],
  },
};

/** `/recorder/stats`: the recorder's own counters, once a second, so a file says what it lost. */
export const STATS_CHANNEL: ChannelDef = {
  topic: '/recorder/stats',
  schemaName: 'telekit.recorder.Stats',
  schema: {
    type: 'object',
    description:
      'Counters since the recorder started: entries written, telemetry and video dropped while it fell behind, control entries dropped, the queue now and at its highest, commands the control feeds superseded before the recorder saw them, telemetry the feeds dropped before it reached the queue.',
    properties: {
      written: { type: 'integer' },
      dropped: { type: 'integer' },
      droppedControl: { type: 'integer' },
      pending: { type: 'integer' },
      highWater: { type: 'integer' },
      superseded: { type: 'integer' },
      feedDropped: { type: 'integer' },
    },
    required: ['written', 'dropped', 'droppedControl', 'pending', 'highWater'],
  },
};

/** `/recorder/sim_snapshot`: the simulator's full state (`Simulator.snapshot()`), restorable into the same engine. */
export const SNAPSHOT_CHANNEL: ChannelDef = {
  topic: '/recorder/sim_snapshot',
  schemaName: 'telekit.recorder.SimSnapshot',
  schema: {
    type: 'object',
    description:
      "A simulator snapshot: its scene, engine and simulated time, and the engine's bytes in base64 (restore with `Simulator.restore`).",
    properties: {
      scene: { type: 'string' },
      engine: { type: 'string' },
      time: { type: 'number' },
      data: { type: 'string', contentEncoding: 'base64' },
    },
    required: ['scene', 'engine', 'time', 'data'],
  },
};

/** A recorder channel whose messages a zod schema describes: its JSON Schema, converted as core converts a topic's. */
function zodChannel(topic: string, schemaName: string, schema: z.ZodType, description: string): ChannelDef {
  const json = z.toJSONSchema(schema, { target: 'draft-2020-12', io: 'input', unrepresentable: 'any' });
  return { topic, schemaName, schema: { ...(json as Record<string, unknown>), title: topic, description } };
}

/** Who holds the lease, as the gateway tells it (`LeaseInfo`). */
const LeaseHolder = z.object({
  /** The holder's public session id (the `sender` of its commands; not a secret). */
  id: z.string(),
  /** Its display name. */
  name: z.string(),
  role: z.enum(['viewer', 'operator', 'admin']),
});

/**
 * A message `/recorder/command_fate` records: the gateway's refusal of a published message (a
 * command, mostly), whatever door it came in by — the code and text its sender got, the topic, the
 * sender's public session id, its header's `seq` and `stamp` as sent, and the lane.
 */
export const CommandFateRecord = z.object({
  fate: z.enum(['refused', 'admitted']),
  /** `E_NOT_HOLDER`, `E_STALE`, `E_ESTOP`, `E_RATE_LIMITED`, `E_VALIDATION`, `E_FORBIDDEN`, `E_OUT_OF_ORDER`, … */
  code: z.string().optional(),
  /** The refusal's text, as its sender got it. */
  reason: z.string().optional(),
  /** The topic the message named ('' when it named none). */
  topic: z.string(),
  /** The sender's public session id. */
  client: z.string(),
  seq: z.number().optional(),
  /** The command's stamp on its sender's clock, ms. */
  stamp: z.number().optional(),
  /** The lane or door it came by. */
  via: z.enum(['socket.io', 'datachannel', 'door']),
  /** When the gateway decided, ms since the epoch on its clock. */
  at: z.number(),
});
export type CommandFateRecord = z.infer<typeof CommandFateRecord>;

/**
 * A message `/recorder/lease` records: the lease's holder at the start of recording (`state`) and at
 * each change — `granted` (to a session, when nobody held it), `taken` (from `previous` by a
 * takeover), `released` (given back, dropped with its connection or expired).
 */
export const LeaseRecord = z.object({
  event: z.enum(['state', 'granted', 'taken', 'released']),
  holder: LeaseHolder.nullable(),
  /** Who held it before this change. */
  previous: LeaseHolder.nullable(),
});
export type LeaseRecord = z.infer<typeof LeaseRecord>;

/**
 * A message `/recorder/estop` records: the e-stop at the start of recording (`state`) and at each
 * change, `engaged` or `cleared`, by whom (display name and public session id) and why.
 */
export const EStopRecord = z.object({
  event: z.enum(['state', 'engaged', 'cleared']),
  latched: z.boolean(),
  /** Who engaged it (or cleared it), a display name. */
  by: z.string().optional(),
  /** Their public session id. */
  byId: z.string().optional(),
  reason: z.string().optional(),
});
export type EStopRecord = z.infer<typeof EStopRecord>;

/** `/recorder/command_fate`: each message the gateway refused, with its code and reason (a {@link CommandFateRecord}). */
export const COMMAND_FATE_CHANNEL: ChannelDef = zodChannel(
  '/recorder/command_fate',
  'telekit.recorder.CommandFate',
  CommandFateRecord,
  "A message the gateway refused before it reached the app: the code and text its sender got (E_NOT_HOLDER, E_STALE, E_ESTOP, E_RATE_LIMITED, E_VALIDATION, E_FORBIDDEN, …), the topic, the sender's public session id, its header's seq and stamp, and the lane it came by.",
);

/** `/recorder/lease`: the control lease's holder at the start and at each change (a {@link LeaseRecord}). */
export const LEASE_CHANNEL: ChannelDef = zodChannel(
  '/recorder/lease',
  'telekit.recorder.Lease',
  LeaseRecord,
  "The gateway's control lease: who holds it at the start of recording and at each change (granted, taken over, released), with who held it before.",
);

/** `/recorder/estop`: the e-stop at the start and at each change (an {@link EStopRecord}). */
export const ESTOP_CHANNEL: ChannelDef = zodChannel(
  '/recorder/estop',
  'telekit.recorder.EStop',
  EStopRecord,
  'The e-stop as the gateway holds it: its state at the start of recording and each engage and clear, by whom (name, public session id) and why.',
);
