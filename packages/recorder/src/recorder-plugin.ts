import { mkdirSync } from 'node:fs';
import { type Plugin, SimulatorToken, type Token, type Topic, TransportToken, token } from '@telekit/core';
import type { Observable, Subscription } from 'rxjs';
import type { ChannelDef } from './mcap-file.js';
import { recorderApi } from './recorder-api.js';
import { RecorderGatewayToken, recordGateway } from './recorder-gateway.js';
import { serveRequests } from './recorder-requests.js';
import { recordStats, recordTransport, recordVideo, snapshotter } from './recorder-sources.js';
import { RecordingWorker } from './recording-worker.js';
import { EPISODE_CHANNEL } from './schemas.js';
import type { WorkerOp } from './worker-protocol.js';
import type { EntryClass, WriteQueueStats } from './write-queue.js';

/**
 * What the recorder needs of the media plugin's access-unit tap (`@telekit/media-nvenc`'s
 * `AccessUnitTap`), named by the same token key so this package does not depend on mediasoup.
 */
export interface RecorderVideoTap {
  streams(): readonly { id: string }[];
  accessUnits$(
    stream: string,
    who: string,
  ): Observable<{ data: Uint8Array; keyframe: boolean; receivedAt: number }>;
}

/** `@telekit/media-nvenc`'s `AccessUnitTapToken`, by its key. */
export const RecorderVideoTapToken: Token<RecorderVideoTap> = token<RecorderVideoTap>(
  '@telekit/media-nvenc/AccessUnitTap',
);

/** Options of {@link recorder}. */
export interface RecorderOptions {
  /** The folder the files go to (made if missing). */
  dir: string;
  /** File names are `<prefix>-<time>-<n>.mcap`. Default `telekit`. */
  prefix?: string;
  /** The app's own topics to record besides core's built-in ones. */
  topics?: readonly Topic[];
  /** Start a new file past this many bytes. Default 512 MiB. */
  maxFileBytes?: number;
  /** Start a new file after this long, ms. Default 30 minutes. */
  maxFileMs?: number;
  /** Uncompressed chunk size, bytes. Default 256 KiB (compressed on the writer thread). */
  chunkSize?: number;
  /**
   * Close the open chunk at least this often, ms (a killed process loses at most this much). Default
   * 2000; 0: only when full.
   */
  flushMs?: number;
  /** zstd level. Default 3. */
  zstdLevel?: number;
  /**
   * Entries that may wait for the file before telemetry is dropped. Default 4096. Control entries
   * (commands, fates, events) have a reserve of another as many (at least 4096) before they too are
   * dropped and counted.
   */
  queueCapacity?: number;
  /**
   * Samples each telemetry feed keeps while the recorder's queue is busy (the topic's depth if that
   * is more). Default 256.
   */
  feedDepth?: number;
  /**
   * How often to record the simulator's snapshot (when the app runs one that can take them), ms;
   * one is also taken at each episode's start. Default 10 000; 0: only at episode starts.
   */
  snapshotMs?: number;
  /** Record the media plugin's video streams (when it is there). Default true. */
  video?: boolean;
}

/** The recorder's state, as `status()` and `health()` report it. */
export interface RecorderStatus {
  /** The file being written. */
  file: string | undefined;
  /** Its size, bytes. */
  bytes: number;
  /** Its chunks closed so far. */
  chunks: number;
  /** Messages in it so far, by topic (written to the file, if perhaps in a chunk still open). */
  messages: Record<string, number>;
  /** Every file this recorder wrote, oldest first. */
  files: string[];
  queue: WriteQueueStats;
  /** The episode under way. */
  episode: { index: number; task: string; startedAt: number } | undefined;
  /** Commands the recorder's control feeds lost to newer ones before it saw them. */
  superseded: number;
  /** Telemetry samples the recorder's feeds lost before they reached its queue (it lagged). */
  feedDropped: number;
}

/** The running recorder, for the UI and the API (through {@link RecorderToken}). */
export interface Recorder {
  /**
   * Starts an episode with its task (stops the one under way first). The task is one line checked
   * as `EpisodeTask`: a longer one, or one with control characters, is refused with `E_VALIDATION`
   * naming `task`.
   */
  startEpisode(task: string): Promise<void>;
  /** Stops the episode under way (nothing when none is). */
  stopEpisode(): Promise<void>;
  /** Starts a new file now. */
  rotate(): Promise<void>;
  /** Writes everything recorded so far and closes the open chunk: it is in the file for any reader, even after a kill. */
  flush(): Promise<void>;
  status(): RecorderStatus;
}

/** The running {@link Recorder}. */
export const RecorderToken: Token<Recorder> = token<Recorder>('@telekit/recorder/Recorder');

/**
 * Records the session to MCAP files (chunked, indexed, zstd): every telemetry topic and every
 * command on the app's transport (commands as the app received them; their fates arrive on
 * `/telemetry/actuation` from what acts on them), the link's state and faults, episodes, the
 * recorder's own counters, and each video stream of the media plugin as `foxglove.CompressedVideo`
 * (the running encoder's H.264, never a second encode). With a gateway in the app, also what it
 * refused before the app saw it (`/recorder/command_fate`, with the code and reason) and the
 * lease's and the e-stop's changes (`/recorder/lease`, `/recorder/estop`). Channels are JSON with
 * core's published JSON Schemas.
 *
 * Nothing the recorder does holds up the control lane: on the main thread a message costs its JSON
 * encoding into a batch buffer, which is transferred (not copied) to a writer thread every few
 * milliseconds; MCAP records, zstd and the file are written there. Entries not yet written are
 * bounded as by a {@link WriteQueue}: when the writer falls behind, telemetry and video are dropped
 * and counted (`/recorder/stats`, `status().queue`), never commands or fates. A chunk closes when
 * full and at least every `flushMs` (the writer thread's own timer); a process killed mid-run leaves
 * a file readable up to its last closed chunk.
 *
 * @example
 * ```ts
 * import { createApp, inProcess } from '@telekit/core';
 * import { recorder, RecorderToken } from '@telekit/recorder';
 * const app = createApp({ plugins: [inProcess(), recorder({ dir: 'recordings' })] });
 * await app.start();
 * const rec = app.resolve(RecorderToken);
 * await rec.startEpisode('pick the red cube');
 * // … teleoperate …
 * await rec.stopEpisode();
 * ```
 */
export function recorder(options: RecorderOptions): Plugin {
  const prefix = options.prefix ?? 'telekit';
  const maxFileBytes = options.maxFileBytes ?? 512 * 1024 * 1024;
  const maxFileMs = options.maxFileMs ?? 30 * 60_000;
  const chunkSize = options.chunkSize ?? 256 * 1024;
  const flushMs = options.flushMs ?? 2_000;
  const zstdLevel = options.zstdLevel ?? 3;
  let state: { status: () => RecorderStatus } | undefined;
  return {
    name: '@telekit/recorder',
    kind: 'recorder',
    requires: [TransportToken],
    optional: [RecorderVideoTapToken, SimulatorToken, RecorderGatewayToken],
    provides: [RecorderToken],
    async setup(ctx) {
      const transport = ctx.resolve(TransportToken);
      const tap = options.video === false ? undefined : ctx.tryResolve(RecorderVideoTapToken);
      const sim = ctx.tryResolve(SimulatorToken);
      const now = () => ctx.clock.now();
      mkdirSync(options.dir, { recursive: true });
      let closing = false;

      // Everything from the encoded message to the disk runs on the writer thread (chunks close
      // every flushMs on its own timer).
      const writer = await RecordingWorker.start(
        {
          dir: options.dir,
          prefix,
          maxFileBytes,
          maxFileMs,
          chunkSize,
          flushMs,
          zstdLevel,
          profile: 'telekit',
          episodeChannel: EPISODE_CHANNEL,
          startAtMs: now(),
        },
        {
          capacity: options.queueCapacity ?? 4096,
          onError: (error, file) => ctx.logger.error('recorder write failed', { error, file }),
        },
      );

      const push = (cls: EntryClass, channel: ChannelDef, json: unknown) => {
        if (!closing) writer.message(cls, channel, now(), json);
      };
      const op = (o: WorkerOp) => {
        if (!closing) writer.op(o);
      };
      const snapshot = snapshotter(sim, push, () => closing, ctx.logger);
      const feeds = recordTransport(transport, options.topics ?? [], options.feedDepth ?? 256, push);
      const subs: Subscription[] = [
        ...feeds.subs,
        recordStats(writer, feeds, push),
        ...recordVideo(tap, writer, now, () => closing, ctx.logger),
      ];

      const { api, episodes } = recorderApi({ writer, feeds, now, op, snapshot });
      state = { status: api.status };
      ctx.provide(RecorderToken, api);

      // With a gateway in the app: the recorder's topics granted, and what only the gateway sees.
      const gateway = ctx.tryResolve(RecorderGatewayToken);
      const removals = gateway ? recordGateway(gateway, push, subs) : [];
      // A UI drives episodes over the app's transport (through the gateway, when there is one).
      const requests = serveRequests({
        transport,
        api,
        status: api.status,
        episodes,
        closing: () => closing,
        now,
      });
      subs.push(...requests.subs);
      ctx.logger.info('recording', { file: writer.file().file ?? '-' });

      return async () => {
        await api.stopEpisode();
        closing = true;
        for (const s of subs) s.unsubscribe();
        for (const remove of removals) remove();
        await requests.done();
        await writer.close();
      };
    },
    health() {
      if (!state) return { status: 'down', detail: 'not started' };
      const s = state.status();
      const lost = s.queue.dropped + s.queue.droppedControl + s.feedDropped;
      return {
        status: lost > 0 ? 'degraded' : 'ok',
        detail: lost > 0 ? `recording, ${lost} dropped` : 'recording',
        data: { ...s },
      };
    },
  };
}
