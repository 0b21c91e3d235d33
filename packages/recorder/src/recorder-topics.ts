/**
 * The recorder's topics on a gateway: a UI asks it to start or stop an episode, and reads its
 * status. Browser-safe (core and zod only): a page gives them to its gateway client (`topics`).
 *
 * @module
 */
import { defineTopic } from '@telekit/core';
import { message, name } from '@telekit/core/schemas';
import * as z from 'zod';

/** Longest episode task (a sentence or two describing the demonstration). */
export const MAX_TASK_LENGTH = 1_000;

/** `/recorder/request`: start an episode with its task, or stop the one under way. */
export const RecorderRequestMessage = message({
  action: z.enum(['start', 'stop']),
  /** What the demonstration does ("pick the red cube"); `start` only. */
  task: z.string().max(MAX_TASK_LENGTH).optional(),
}).meta({ id: 'RecorderRequest' });
export type RecorderRequestMessage = z.infer<typeof RecorderRequestMessage>;

/** `/recorder/status`: what the recorder is writing, once a second and after each request. */
export const RecorderStatusMessage = message({
  /** The file being written (its name, not the server's folder). */
  file: z.string().max(1_024).optional(),
  /** Its size so far, bytes. */
  bytes: z.number().int().min(0),
  /** Files written so far (rotation starts a new one). */
  files: z.number().int().min(0),
  /** Telemetry and video samples dropped while the recorder was behind. */
  dropped: z.number().int().min(0),
  /** Commands, fates and events dropped (only past the control reserve: should stay 0). */
  droppedControl: z.number().int().min(0),
  /** The episode under way. */
  episode: z
    .object({
      index: z.number().int().min(0),
      task: z.string().max(MAX_TASK_LENGTH),
      /** ms since the epoch, on the server's clock. */
      startedAt: z.number().min(0),
    })
    .optional(),
  /** Episodes started so far. */
  episodes: z.number().int().min(0),
  /** The answer to the last request: whose (its sender and sequence number), and whether it was done. */
  answer: z
    .object({
      sender: name(),
      seq: z.number().int().min(0),
      ok: z.boolean(),
      reason: z.string().max(512).optional(),
    })
    .optional(),
}).meta({ id: 'RecorderStatus' });
export type RecorderStatusMessage = z.infer<typeof RecorderStatusMessage>;

/**
 * The recorder's topics. With a gateway in the app, the recorder adds them to it and grants
 * operators and admins `/recorder/request`, and every role `/recorder/status` (a viewer sees that
 * the session is recorded). A replay has no recorder: nothing answers there.
 */
export const RecorderTopics = {
  request: defineTopic({
    name: '/recorder/request',
    lane: 'telemetry',
    schema: RecorderRequestMessage,
    depth: 16,
    description: 'Start an episode with its task, or stop the one under way (operators and admins).',
  }),
  status: defineTopic({
    name: '/recorder/status',
    lane: 'telemetry',
    schema: RecorderStatusMessage,
    depth: 1,
    description:
      "The recorder's file, its size, what it dropped, and the episode under way; once a second and after each request.",
  }),
} as const;
