import type * as z from 'zod';
import { TelekitError } from '../errors.js';

/**
 * The lane a topic travels on, and so its delivery rules.
 *
 * - `control`: operator commands. Latest value wins; a command past its deadline is dropped; a
 *   late subscriber gets no old command.
 * - `telemetry`: state. Keep-last N per subscriber with drop counters; a late subscriber gets the
 *   last sample.
 * - `media`: signalling for video, request and answer. Video itself never passes through it.
 */
export type Lane = 'control' | 'telemetry' | 'media';

/**
 * A named, typed topic with its lane and schema. Create with {@link defineTopic}. `A` is the type
 * of the answer to a request on a media-lane topic (`unknown` elsewhere).
 */
export interface Topic<T = unknown, N extends string = string, A = unknown> {
  readonly name: N;
  readonly lane: Lane;
  readonly schema: z.ZodType<T>;
  /** Control lane: the default deadline (ms after `header.stamp`) when a command has no `ttl`. */
  readonly ttl: number;
  /** Telemetry lane: the default keep-last depth per subscriber. */
  readonly depth: number;
  /** One line for docs and the JSON Schema. */
  readonly description: string;
  /** Media lane: the schema of the answer to a request on this topic. */
  readonly answer?: z.ZodType<A>;
}

/** The message type a topic carries. */
export type MessageOf<T> = T extends Topic<infer M> ? M : never;

/** The type of the answer to a request on a (media-lane) topic. */
export type AnswerOf<T> = T extends Topic<unknown, string, infer A> ? A : never;

/** Default deadline of a control command, ms. */
export const DEFAULT_TTL_MS = 250;
/** Default keep-last depth of a telemetry subscriber. */
export const DEFAULT_DEPTH = 16;

const TOPIC_NAME = /^\/[a-z0-9_]+(\/[a-z0-9_]+)*$/;

/**
 * Defines a topic. Plugins define their own the same way the built-in ones are defined.
 *
 * @example
 * ```ts
 * import * as z from 'zod';
 * import { defineTopic, message } from '@telekit/core';
 * const Gripper = defineTopic({
 *   name: '/controller/gripper',
 *   lane: 'control',
 *   schema: message({ width: z.number().min(0).max(0.1) }),
 *   description: 'Gripper opening in metres.',
 * });
 * ```
 */
export function defineTopic<T, N extends string, A = unknown>(spec: {
  name: N;
  lane: Lane;
  schema: z.ZodType<T>;
  description: string;
  ttl?: number;
  depth?: number;
  answer?: z.ZodType<A>;
}): Topic<T, N, A> {
  if (!TOPIC_NAME.test(spec.name)) {
    throw new TelekitError('E_VALIDATION', 'topic name must look like /lane/name in lower case', {
      operation: 'defineTopic',
      context: { topic: spec.name },
    });
  }
  return Object.freeze({
    name: spec.name,
    lane: spec.lane,
    schema: spec.schema,
    description: spec.description,
    ttl: spec.ttl ?? DEFAULT_TTL_MS,
    depth: spec.depth ?? DEFAULT_DEPTH,
    ...(spec.answer ? { answer: spec.answer } : {}),
  });
}
