import { CompressedVideo } from '@foxglove/schemas/jsonschema';
import { protocolSchemas, type Topic, Topics } from '@telekit/core';
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
