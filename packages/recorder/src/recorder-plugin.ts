import { mkdirSync } from 'node:fs';
import { basename } from 'node:path';
import {
  type Feed,
  headerSequence,
  type Plugin,
  SimulatorToken,
  TelekitError,
  type Token,
  type Topic,
  TransportToken,
  token,
} from '@telekit/core';
import type { Role } from '@telekit/core/safety';
import { builtinTopics } from '@telekit/core/schemas';
import { filter, interval, merge, type Observable, pairwise, type Subscription, startWith } from 'rxjs';
import type { ChannelDef } from './mcap-file.js';
import { type RecorderStatusMessage, RecorderTopics } from './recorder-topics.js';
import { RecordingWorker } from './recording-worker.js';
import {
  COMMAND_FATE_CHANNEL,
  type CommandFateRecord,
  EPISODE_CHANNEL,
  ESTOP_CHANNEL,
  type EStopRecord,
  LEASE_CHANNEL,
  type LeaseRecord,
  LINK_CHANNEL,
  SNAPSHOT_CHANNEL,
  STATS_CHANNEL,
  topicChannel,
  videoChannel,
} from './schemas.js';
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

/** Who holds the lease, as `@telekit/gateway` says (`LeaseInfo`). */
type LeaseHolder = NonNullable<LeaseRecord['holder']>;

/** What the recorder needs of a gateway in the same app (`@telekit/gateway`'s `Gateway`). */
interface RecorderGateway {
  addTopics(topics: readonly Topic[]): void;
  grant(
    roles: readonly Role[],
    rules: { publish?: readonly string[]; subscribe?: readonly string[] },
  ): () => void;
  /** Each published message's fate at the gateway (absent from gateways older than it). */
  readonly commandFates$?: Observable<CommandFateRecord>;
  readonly lease$?: Observable<LeaseHolder | null>;
  readonly estop$?: Observable<{ latched: boolean; by?: string; byId?: string; reason?: string }>;
}

/** A lease change as `/recorder/lease` records it; `undefined` before the first (the state at the start). */
function leaseRecord(previous: LeaseHolder | null | undefined, holder: LeaseHolder | null): LeaseRecord {
  const event = previous === undefined ? 'state' : !holder ? 'released' : previous ? 'taken' : 'granted';
  return { event, holder, previous: previous ?? null };
}

/** `@telekit/gateway`'s `GatewayToken`, by its key, so this package does not depend on the gateway. */
const RecorderGatewayToken: Token<RecorderGateway> = token<RecorderGateway>('@telekit/gateway/Gateway');

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
  /** Starts an episode with its task (stops the one under way first). */
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
      // A snapshot at a time, and none once closing; a failed one is logged, never fatal.
      let snapping = false;
      const snapshot = () => {
        if (!sim?.capabilities.snapshot || snapping || closing) return;
        snapping = true;
        sim
          .snapshot()
          .then((snap) =>
            push('control', SNAPSHOT_CHANNEL, {
              scene: snap.scene,
              engine: snap.engine,
              time: snap.time,
              data: Buffer.from(snap.data.buffer, snap.data.byteOffset, snap.data.byteLength).toString(
                'base64',
              ),
            }),
          )
          .catch((error: unknown) =>
            ctx.logger.warn('recorder could not snapshot the simulator', { error: String(error) }),
          )
          .finally(() => {
            snapping = false;
          });
      };
      const now = () => ctx.clock.now();
      mkdirSync(options.dir, { recursive: true });
      let episode: { index: number; task: string; startedAt: number } | undefined;
      let episodes = 0;
      let closing = false;

      // Everything from the encoded message to the disk runs on the writer thread.
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

      const subs: Subscription[] = [];
      const push = (cls: EntryClass, channel: ChannelDef, json: unknown) => {
        if (!closing) writer.message(cls, channel, now(), json);
      };
      const op = (o: WorkerOp) => {
        if (!closing) writer.op(o);
      };

      // Every topic of the app's transport: telemetry keeps up to the topic's depth while the recorder
      // lags; commands are taken with a deadline long enough that the recorder sees late ones too.
      const topics = [...builtinTopics, RecorderTopics.request, ...(options.topics ?? [])].filter(
        (t) => t.lane === 'telemetry' || t.lane === 'control',
      );
      const controlFeeds: Feed<unknown>[] = [];
      const telemetryFeeds: Feed<unknown>[] = [];
      const feedDepth = options.feedDepth ?? 256;
      for (const topic of topics) {
        const channel = topicChannel(topic);
        const control = topic.lane === 'control' || topic.name === '/telemetry/actuation';
        const feed = transport.subscribe(
          topic as Topic<unknown>,
          topic.lane === 'control' ? { ttl: 3_600_000 } : { depth: Math.max(topic.depth, feedDepth) },
        );
        (topic.lane === 'control' ? controlFeeds : telemetryFeeds).push(feed);
        subs.push(feed.subscribe((json) => push(control ? 'control' : 'telemetry', channel, json)));
      }
      subs.push(
        merge(transport.state$, transport.faults$).subscribe((x) => {
          const json =
            'status' in x
              ? { kind: 'state', status: x.status, ...(x.reason ? { reason: x.reason } : {}) }
              : { kind: 'fault', ...x };
          push('control', LINK_CHANNEL, json);
        }),
      );
      const superseded = () => controlFeeds.reduce((n, f) => n + f.stats().superseded, 0);
      const feedDropped = () => telemetryFeeds.reduce((n, f) => n + f.stats().dropped, 0);
      subs.push(
        interval(1_000).subscribe(() =>
          push('control', STATS_CHANNEL, {
            ...writer.stats(),
            superseded: superseded(),
            feedDropped: feedDropped(),
          }),
        ),
      );
      // Chunks close every flushMs on the writer thread's own timer.

      for (const stream of tap?.streams() ?? []) {
        const channel = videoChannel(stream.id);
        subs.push(
          tap!.accessUnits$(stream.id, '@telekit/recorder').subscribe({
            next: (au) => {
              if (!closing) writer.video(channel, stream.id, now(), au.receivedAt, au.data);
            },
            error: (error: unknown) =>
              ctx.logger.warn('recorder lost a video stream', { stream: stream.id, error: String(error) }),
          }),
        );
      }

      const status = (): RecorderStatus => {
        const f = writer.file();
        return {
          file: f.file,
          bytes: f.bytes,
          chunks: f.chunks,
          messages: { ...f.counts },
          files: [...f.files],
          queue: writer.stats(),
          episode: episode ? { ...episode } : undefined,
          superseded: superseded(),
          feedDropped: feedDropped(),
        };
      };
      state = { status };
      const api: Recorder = {
        async startEpisode(task) {
          if (typeof task !== 'string' || task.length > 1_000)
            throw new TelekitError('E_VALIDATION', 'an episode needs a task of at most 1000 characters', {
              context: { field: 'task' },
            });
          if (episode) await api.stopEpisode();
          episode = { index: episodes++, task, startedAt: now() };
          op({ kind: 'episode', event: 'start', atMs: episode.startedAt, ...episode });
          snapshot();
          await writer.drained();
        },
        async stopEpisode() {
          if (!episode) return;
          const e = episode;
          episode = undefined;
          op({ kind: 'episode', event: 'stop', atMs: now(), ...e });
          await writer.drained();
        },
        async rotate() {
          op({ kind: 'rotate', atMs: now() });
          await writer.drained();
        },
        async flush() {
          op({ kind: 'flush', atMs: now() });
          await writer.drained();
        },
        status,
      };
      ctx.provide(RecorderToken, api);

      // A UI drives episodes over the app's transport (through the gateway, when there is one):
      // requests are done one at a time, in order, each answered in the next status.
      const gateway = ctx.tryResolve(RecorderGatewayToken);
      const removals: (() => void)[] = [];
      if (gateway) {
        gateway.addTopics(Object.values(RecorderTopics));
        removals.push(
          gateway.grant(['operator', 'admin'], { publish: [RecorderTopics.request.name] }),
          gateway.grant(['viewer', 'operator', 'admin'], { subscribe: [RecorderTopics.status.name] }),
        );
        // What the gateway refused never reaches the app's transport: the gateway tells it. Refusals
        // are telemetry to the queue (dropped and counted when it is full); the lease and the e-stop
        // are control. Admitted commands are on their own channels already (`/controller/*`).
        if (gateway.commandFates$)
          subs.push(
            gateway.commandFates$
              .pipe(filter((f) => f.fate === 'refused'))
              .subscribe((f) => push('telemetry', COMMAND_FATE_CHANNEL, f)),
          );
        if (gateway.lease$)
          subs.push(
            gateway.lease$
              .pipe(
                startWith(undefined),
                pairwise(),
                // The same holder again (a renewal) is no change.
                filter(([previous, holder]) => previous === undefined || previous?.id !== holder?.id),
              )
              .subscribe(([previous, holder]) =>
                push('control', LEASE_CHANNEL, leaseRecord(previous, holder as LeaseHolder | null)),
              ),
          );
        if (gateway.estop$) {
          let first = true;
          subs.push(
            gateway.estop$.subscribe((e) => {
              const event: EStopRecord['event'] = first ? 'state' : e.latched ? 'engaged' : 'cleared';
              first = false;
              push('control', ESTOP_CHANNEL, {
                event,
                latched: e.latched,
                ...(e.by === undefined ? {} : { by: e.by }),
                ...(e.byId === undefined ? {} : { byId: e.byId }),
                ...(e.reason === undefined ? {} : { reason: e.reason }),
              } satisfies EStopRecord);
            }),
          );
        }
      }
      const statusHeader = headerSequence('@telekit/recorder', now);
      let answer: RecorderStatusMessage['answer'];
      const publishStatus = () => {
        if (closing) return;
        const s = status();
        transport.publish(RecorderTopics.status, {
          header: statusHeader(),
          ...(s.file ? { file: basename(s.file) } : {}),
          bytes: s.bytes,
          files: s.files.length,
          dropped: s.queue.dropped + s.feedDropped,
          droppedControl: s.queue.droppedControl,
          ...(s.episode ? { episode: s.episode } : {}),
          episodes,
          ...(answer ? { answer } : {}),
        });
      };
      let requests = Promise.resolve();
      subs.push(
        transport.subscribe(RecorderTopics.request, { depth: 16 }).subscribe((req) => {
          requests = requests.then(async () => {
            try {
              if (req.action === 'start') await api.startEpisode(req.task ?? '');
              else await api.stopEpisode();
              answer = { sender: req.header.sender, seq: req.header.seq, ok: true };
            } catch (error) {
              const reason = (error instanceof Error ? error.message : String(error)).slice(0, 512);
              answer = { sender: req.header.sender, seq: req.header.seq, ok: false, reason };
            }
            publishStatus();
          });
        }),
        interval(1_000).subscribe(publishStatus),
      );
      publishStatus();
      ctx.logger.info('recording', { file: writer.file().file ?? '-' });

      return async () => {
        await api.stopEpisode();
        closing = true;
        for (const s of subs) s.unsubscribe();
        for (const remove of removals) remove();
        await requests;
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
