/**
 * What the client sends: each message validated, commands numbered in order per topic, and sent on
 * their lane — telemetry and most commands over socket.io, streamed commands over the DataChannel
 * while it is open — or dropped with a fault while the link is down (a command is for now, never
 * queued); and `sent$`, every command as it leaves.
 */
import { parseMessage, type Topic } from '@telekit/core';
import { Subject } from 'rxjs';
import type { Socket } from 'socket.io-client';
import { type ClientLane, type ControlLane, laneOf, STREAMED_TOPICS, type WireError } from '../protocol.js';
import type { GatewayClientOptions, PublishOptions, SentCommand } from './client-types.js';
import type { DataLaneHookup } from './data-lane-hookup.js';

const ESTOP = '/controller/estop';

export interface ClientPublisherOptions {
  options: GatewayClientOptions;
  clock: { now(): number };
  sockets: Record<ClientLane, Socket>;
  /** The DataChannel lane: whether it is open, and sending on it. */
  lanes: Pick<DataLaneHookup, 'open' | 'send'>;
  /** A message dropped, to report on `faults$`. */
  fault(error: WireError): void;
}

export class ClientPublisher {
  /** Every command as it leaves (completed by the client's close). */
  readonly sent$ = new Subject<SentCommand>();
  private readonly _o: ClientPublisherOptions;
  // The last seq sent per command topic (see _inOrder).
  private readonly _seqs = new Map<string, number>();
  private _commandsSent = 0;

  constructor(o: ClientPublisherOptions) {
    this._o = o;
  }

  /** Commands sent so far (the link health reports it). */
  get commandsSent(): number {
    return this._commandsSent;
  }

  publish<T>(topic: Topic<T>, message: T, opts?: PublishOptions): void {
    const valid = this._inOrder(topic, parseMessage(topic, message));
    const socket = this._o.sockets[laneOf(topic)];
    const lanes = this._o.lanes;
    const streamed = STREAMED_TOPICS.has(topic.name);
    // With controlLane 'datachannel', streamed commands go over the DataChannel or nowhere.
    const only = streamed && this._o.options.controlLane === 'datachannel' && !lanes.open;
    // A command is for now: while the link is down it is dropped, never queued.
    if (!socket.connected || only) {
      this._o.fault({
        code: 'E_NOT_CONNECTED',
        message: only
          ? 'the DataChannel is not open (controlLane is datachannel): command dropped'
          : 'not connected: message dropped',
        topic: topic.name,
      });
      return;
    }
    // No acknowledgement: a refusal comes back as a fault, and a command costs one frame.
    if (topic.lane !== 'control') {
      socket.emit('pub', topic.name, valid);
      return;
    }
    this._commandsSent++;
    const input = opts?.inputAt;
    const header = (valid as { header: { seq: number } }).header;
    const stamped = input !== undefined && Number.isFinite(input);
    // The input's moment rides in the header for the gateway's latency budget (the header's
    // schema does not know it: the gateway reads it, then validation drops it).
    const out = stamped ? { ...(valid as object), header: { ...header, input } } : valid;
    let lane: ControlLane = 'socket.io';
    if (streamed && lanes.send(topic.name, out)) lane = 'datachannel';
    else socket.emit('pub', topic.name, out);
    // An e-stop engage also rides the DataChannel: whichever copy arrives first latches it.
    if (topic.name === ESTOP && (valid as { engage?: boolean }).engage) lanes.send(topic.name, out);
    // Told only while someone listens (a page's command log, the browser simulator's proxy).
    if (!this.sent$.observed) return;
    this.sent$.next({
      topic: topic.name,
      seq: header.seq,
      lane,
      ...(stamped ? { inputAt: input } : {}),
      sentAt: this._o.clock.now(),
    });
  }

  /**
   * The gateway judges a session's commands in order by seq. A command keeps its own seq when that
   * is after the last one sent on its topic; when several publishers in one client (a pad, a
   * gamepad, a script) number their commands independently, the later one is moved just after it.
   */
  private _inOrder<T>(topic: Topic, msg: T): T {
    if (topic.lane !== 'control') return msg;
    const m = msg as { header: { seq: number } };
    const last = this._seqs.get(topic.name);
    const seq = last === undefined || m.header.seq > last ? m.header.seq : last + 1;
    this._seqs.set(topic.name, seq);
    return seq === m.header.seq ? msg : ({ ...m, header: { ...m.header, seq } } as T);
  }
}
