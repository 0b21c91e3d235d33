/**
 * What the recorder takes from the app, each source handing entries to the writer: every telemetry
 * topic and every command of the app's transport, the link's state and faults, the recorder's own
 * counters each second, each video stream of the media plugin's access-unit tap, and the simulator's
 * snapshots.
 */
import type { Feed, Logger, Simulator, Topic, Transport } from '@telekit/core';
import { builtinTopics } from '@telekit/core/schemas';
import { interval, merge, type Subscription } from 'rxjs';
import type { ChannelDef } from './mcap-file.js';
import type { RecorderVideoTap } from './recorder-plugin.js';
import { RecorderTopics } from './recorder-topics.js';
import type { RecordingWorker } from './recording-worker.js';
import { LINK_CHANNEL, SNAPSHOT_CHANNEL, STATS_CHANNEL, topicChannel, videoChannel } from './schemas.js';
import type { EntryClass } from './write-queue.js';

/** Hands one entry to the writer (nothing once the recorder is closing). */
export type Push = (cls: EntryClass, channel: ChannelDef, json: unknown) => void;

/** The transport's feeds as recorded, and what they lost. */
export interface RecordedTransport {
  readonly subs: Subscription[];
  /** Commands the recorder's control feeds lost to newer ones before it saw them. */
  superseded(): number;
  /** Telemetry samples the recorder's feeds lost before they reached its queue. */
  feedDropped(): number;
}

/**
 * Every topic of the app's transport: telemetry keeps up to the topic's depth (at least `feedDepth`)
 * while the recorder lags; commands are taken with a deadline long enough that the recorder sees late
 * ones too. Also the link's state and faults.
 */
export function recordTransport(
  transport: Transport,
  topicsOfApp: readonly Topic[],
  feedDepth: number,
  push: Push,
): RecordedTransport {
  const subs: Subscription[] = [];
  const topics = [...builtinTopics, RecorderTopics.request, ...topicsOfApp].filter(
    (t) => t.lane === 'telemetry' || t.lane === 'control',
  );
  const controlFeeds: Feed<unknown>[] = [];
  const telemetryFeeds: Feed<unknown>[] = [];
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
  return {
    subs,
    superseded: () => controlFeeds.reduce((n, f) => n + f.stats().superseded, 0),
    feedDropped: () => telemetryFeeds.reduce((n, f) => n + f.stats().dropped, 0),
  };
}

/** The recorder's own counters, every second (`/recorder/stats`). */
export function recordStats(writer: RecordingWorker, feeds: RecordedTransport, push: Push): Subscription {
  return interval(1_000).subscribe(() =>
    push('control', STATS_CHANNEL, {
      ...writer.stats(),
      superseded: feeds.superseded(),
      feedDropped: feeds.feedDropped(),
    }),
  );
}

/** Each video stream of the tap as `foxglove.CompressedVideo` (the running encoder's H.264). */
export function recordVideo(
  tap: RecorderVideoTap | undefined,
  writer: RecordingWorker,
  now: () => number,
  closing: () => boolean,
  logger: Logger,
): Subscription[] {
  const subs: Subscription[] = [];
  for (const stream of tap?.streams() ?? []) {
    const channel = videoChannel(stream.id);
    subs.push(
      tap!.accessUnits$(stream.id, '@telekit/recorder').subscribe({
        next: (au) => {
          if (!closing()) writer.video(channel, stream.id, now(), au.receivedAt, au.data);
        },
        error: (error: unknown) =>
          logger.warn('recorder lost a video stream', { stream: stream.id, error: String(error) }),
      }),
    );
  }
  return subs;
}

/**
 * Takes the simulator's snapshot, when the app runs one that can: a snapshot at a time, and none
 * once closing; a failed one is logged, never fatal.
 */
export function snapshotter(
  sim: Simulator | undefined,
  push: Push,
  closing: () => boolean,
  logger: Logger,
): () => void {
  let snapping = false;
  return () => {
    if (!sim?.capabilities.snapshot || snapping || closing()) return;
    snapping = true;
    sim
      .snapshot()
      .then((snap) =>
        push('control', SNAPSHOT_CHANNEL, {
          scene: snap.scene,
          engine: snap.engine,
          time: snap.time,
          data: Buffer.from(snap.data.buffer, snap.data.byteOffset, snap.data.byteLength).toString('base64'),
        }),
      )
      .catch((error: unknown) =>
        logger.warn('recorder could not snapshot the simulator', { error: String(error) }),
      )
      .finally(() => {
        snapping = false;
      });
  };
}
