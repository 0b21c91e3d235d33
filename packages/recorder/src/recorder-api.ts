/**
 * The running {@link Recorder} over its writer thread: episodes started and stopped (each start
 * stops the one under way, takes a snapshot and is marked in the file), rotation and flushes, each
 * awaited until the writer has taken it; and the recorder's status.
 */
import type { Recorder, RecorderStatus } from './recorder-plugin.js';
import type { RecordedTransport } from './recorder-sources.js';
import { checkTask } from './recorder-topics.js';
import type { RecordingWorker } from './recording-worker.js';
import type { WorkerOp } from './worker-protocol.js';

export interface RecorderApiOptions {
  writer: RecordingWorker;
  feeds: Pick<RecordedTransport, 'superseded' | 'feedDropped'>;
  now(): number;
  /** Hands an op to the writer (nothing once the recorder is closing). */
  op(o: WorkerOp): void;
  /** Takes the simulator's snapshot, when there is one. */
  snapshot(): void;
}

/** The recorder's API, and how many episodes it started. */
export function recorderApi(o: RecorderApiOptions): { api: Recorder; episodes(): number } {
  const { writer, now, op } = o;
  let episode: { index: number; task: string; startedAt: number } | undefined;
  let episodes = 0;
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
      superseded: o.feeds.superseded(),
      feedDropped: o.feeds.feedDropped(),
    };
  };
  const api: Recorder = {
    async startEpisode(task) {
      checkTask(task);
      if (episode) await api.stopEpisode();
      episode = { index: episodes++, task, startedAt: now() };
      op({ kind: 'episode', event: 'start', atMs: episode.startedAt, ...episode });
      o.snapshot();
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
  return { api, episodes: () => episodes };
}
