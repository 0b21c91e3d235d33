/**
 * The recorder's topics on a gateway: a UI asks it to start or stop an episode, and reads its
 * status. Browser-safe (core and zod only): a page gives them to its gateway client (`topics`).
 *
 * @module
 */
import { defineTopic, TelekitError } from '@telekit/core';
import { message, name } from '@telekit/core/schemas';
import * as z from 'zod';

/** Longest episode task (a sentence or two describing the demonstration). */
export const MAX_TASK_LENGTH = 1_000;

/**
 * An episode's task: one line of text, at most {@link MAX_TASK_LENGTH} characters. It is written
 * into recordings, shown to every viewer and becomes a row of a LeRobot dataset's `tasks.parquet`,
 * so it may not hold control characters — C0 (tab and newline too: a task is one line), DEL, C1 —
 * line or paragraph separators (U+2028/2029), bidi embeddings, overrides and isolates
 * (U+202A–202E, U+2066–2069: they make text read other than it is stored) or an unpaired surrogate
 * (not writable as UTF-8). Every door that takes a task checks it with this schema: the
 * `/recorder/request` topic (the gateway refuses it with `E_VALIDATION` naming `task`), the
 * recorder's `startEpisode` and the LeRobot export's `task`.
 */
export const EpisodeTask = z
  .string()
  .max(MAX_TASK_LENGTH)
  .regex(
    // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what it refuses.
    /^[^\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069\ud800-\udfff]*$/u,
    'expected one line of text without control characters (C0 including tab and newline, DEL, C1), U+2028/2029, bidi controls (U+202A–202E, U+2066–2069) or unpaired surrogates',
  );

/**
 * `task` checked with {@link EpisodeTask} (for the doors that take a task outside a topic), or an
 * `E_VALIDATION` error naming `field` and what was expected.
 */
export function checkTask(task: unknown, field = 'task'): string {
  const r = EpisodeTask.safeParse(task);
  if (r.success) return r.data;
  const why = (r.error.issues[0]?.message ?? 'expected a task').replace(/^\w+ \w+: /, '');
  const expected = why.charAt(0).toLowerCase() + why.slice(1);
  throw new TelekitError('E_VALIDATION', `${field}: ${expected}`, { context: { field, expected } });
}

/** `/recorder/request`: start an episode with its task, or stop the one under way. */
export const RecorderRequestMessage = message({
  action: z.enum(['start', 'stop']),
  /** What the demonstration does ("pick the red cube"); `start` only. */
  task: EpisodeTask.optional(),
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
      task: EpisodeTask,
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
