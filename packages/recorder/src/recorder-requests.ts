/**
 * Episodes driven over the app's transport (through the gateway, when there is one): requests on
 * `/recorder/request` are done one at a time, in order, each answered in the next status; the
 * status goes out on `/recorder/status` every second and after every request.
 */
import { basename } from 'node:path';
import { headerSequence, type Transport } from '@telekit/core';
import { interval, type Subscription } from 'rxjs';
import type { Recorder, RecorderStatus } from './recorder-plugin.js';
import { type RecorderStatusMessage, RecorderTopics } from './recorder-topics.js';

export interface RecorderRequestsOptions {
  transport: Transport;
  api: Recorder;
  status(): RecorderStatus;
  /** Episodes started so far. */
  episodes(): number;
  closing(): boolean;
  now(): number;
}

/** The requests being served and the status being published. */
export interface RecorderRequests {
  readonly subs: Subscription[];
  /** Settles once every request taken so far is done. */
  done(): Promise<void>;
}

/** Serves the requests and publishes the status (once now). */
export function serveRequests(o: RecorderRequestsOptions): RecorderRequests {
  const { transport, api } = o;
  const statusHeader = headerSequence('@telekit/recorder', o.now);
  let answer: RecorderStatusMessage['answer'];
  const publishStatus = () => {
    if (o.closing()) return;
    const s = o.status();
    transport.publish(RecorderTopics.status, {
      header: statusHeader(),
      ...(s.file ? { file: basename(s.file) } : {}),
      bytes: s.bytes,
      files: s.files.length,
      dropped: s.queue.dropped + s.feedDropped,
      droppedControl: s.queue.droppedControl,
      ...(s.episode ? { episode: s.episode } : {}),
      episodes: o.episodes(),
      ...(answer ? { answer } : {}),
    });
  };
  let requests = Promise.resolve();
  const subs = [
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
  ];
  publishStatus();
  return { subs, done: () => requests };
}
