import type { DataChannel, PeerConnection, RtcConfig } from 'node-datachannel';
import { packMessage, unpackMessage } from '../codec.js';
import {
  type Ack,
  type DataLaneState,
  type RtcSignal,
  STREAMED_TOPICS,
  type WireError,
} from '../protocol.js';
import { candidateAddress } from '../sdp.js';
import { allowed } from './auth.js';
import type { GatewayContext } from './context.js';
import { type DataChannelOptions, DC_FRAME, supersededBy } from './data-lane-options.js';
import { dispatch } from './dispatch.js';
import { type Caller, fault, isRefusal } from './handlers.js';
import { recordRefusal } from './refusal.js';
import type { Session } from './session.js';

export { type DataChannelOptions, DC_FRAME };

type Ndc = typeof import('node-datachannel');

interface Lane {
  readonly pc: PeerConnection;
  dc: DataChannel | undefined;
  state: 'connecting' | 'open';
  heard: number;
  commands: number;
  /** Per streamed topic, the `seq`s received last ({@link supersededBy}). */
  readonly seqs: Map<string, number[]>;
  /** Pings in the current second, and which second. */
  pings: number;
  pingSecond: number;
}

/**
 * Pings a client may send in a second: it sends 4; past this many the rest go unanswered, and past
 * twice this many the lane closes as abuse.
 */
const PING_RATE = 20;
/** A channel with more than this many bytes waiting answers no ping (the link is behind already). */
const PING_BUFFERED_BYTES = 64 * 1024;

let loaded: Promise<Ndc | undefined> | undefined;
/** node-datachannel, loaded once on first use: an optional dependency. */
function loadNdc(): Promise<Ndc | undefined> {
  loaded ??= import('node-datachannel').then(
    (m) => (m as unknown as { default?: Ndc }).default ?? m,
    () => undefined,
  );
  return loaded;
}

/**
 * The gateway's end of the DataChannel control lane: one WebRTC peer connection per session that
 * asks for one (node-datachannel, in this process), with one unordered channel without
 * retransmissions (`ordered: false, maxRetransmits: 0`, negotiated as id 1) for streamed commands.
 *
 * Signalling rides the session's control connection (`rtc`): the client offers (its candidates
 * held back), the gateway answers with its own, then the client sends its candidates. The client is
 * the one that starts the connectivity checks, after it has the answer, so the gateway's DTLS
 * handshake (it is the DTLS client) never reaches a browser not yet ready for it (which costs a
 * one-second retransmission).
 *
 * What arrives enters the same handler as a socket.io `pub`: the rate limits, the allow-list, the
 * schema, the one safety chain (lease, seq order, deadline, deadman, e-stop), the latency budget.
 * A refusal comes back on the control connection as a `fault`; a streamed command dropped because a
 * newer one of its topic arrived first is counted, not answered (an unordered lane reorders).
 */
export class DataLanes {
  readonly #ctx: GatewayContext;
  readonly #options: DataChannelOptions;
  readonly #penalise: (s: Session) => void;
  readonly #lanes = new Map<Session, Lane>();
  readonly #timer: ReturnType<typeof setInterval>;
  #closed = false;

  constructor(ctx: GatewayContext, options: DataChannelOptions, penalise: (s: Session) => void) {
    this.#ctx = ctx;
    this.#options = options;
    this.#penalise = penalise;
    this.#timer = setInterval(() => this.#sweep(), 250);
    this.#timer.unref();
  }

  /** The lane of `session` as link health tells it. */
  state(session: Session): DataLaneState {
    const lane = this.#lanes.get(session);
    return { state: lane ? lane.state : 'closed', commands: lane?.commands ?? 0 };
  }

  /** Answers one `rtc` signalling message of `c`'s session. */
  async signal(c: Caller, s: RtcSignal): Promise<unknown> {
    if (s.type === 'close') {
      this.close(c.session, 'closed by the client');
      return { ok: true };
    }
    if (s.type === 'candidates') {
      const lane = this.#lanes.get(c.session);
      if (!lane) return refuse(fault('E_BAD_REQUEST', 'no DataChannel offer to add candidates to'));
      for (const cand of s.candidates) {
        // An mDNS name (a browser hiding its address) cannot be resolved here: the client's own
        // checks reach the gateway, which answers the address they came from.
        if (candidateAddress(cand)?.endsWith('.local')) continue;
        try {
          lane.pc.addRemoteCandidate(cand.startsWith('candidate:') ? cand : `candidate:${cand}`, s.mid);
        } catch {
          // A candidate this side cannot use (an mDNS name, another family) is skipped.
        }
      }
      return { ok: true };
    }
    // A DataChannel carries streamed commands only: a role that may publish none of them gets no
    // peer (a viewer, everyone on a replay), and no UDP port or native peer to spend.
    const publish = this.#ctx.acl()[c.session.principal.role].publish;
    if (![...STREAMED_TOPICS].some((t) => allowed(publish, t)))
      return refuse(
        fault(
          'E_FORBIDDEN',
          `role ${c.session.principal.role} may publish no streamed command: no DataChannel for it`,
        ),
      );
    return this.#answer(c.session, s.sdp);
  }

  /** Closes the session's DataChannel (the session left, or its control connection went). */
  close(session: Session, why: string): void {
    const lane = this.#lanes.get(session);
    if (!lane) return;
    this.#lanes.delete(session);
    const wasOpen = lane.state === 'open';
    try {
      lane.dc?.close();
      lane.pc.close();
    } catch {}
    if (wasOpen) {
      this.#ctx.metrics.dataChannels.dec();
      this.#stopIfHolder(session, why);
    }
  }

  closeAll(): void {
    this.#closed = true;
    clearInterval(this.#timer);
    for (const s of [...this.#lanes.keys()]) this.close(s, 'the gateway closed');
  }

  async #answer(session: Session, offer: string): Promise<unknown> {
    const ndc = await loadNdc();
    if (!ndc)
      return refuse(
        fault(
          'E_NO_DATACHANNEL',
          'this gateway has no WebRTC DataChannel support (node-datachannel is not installed)',
        ),
      );
    if (this.#closed || session.closed) return refuse(fault('E_SESSION_CLOSED', 'the session closed'));
    this.close(session, 'a new offer replaced it');
    if (this.#lanes.size >= (this.#options.maxPeers ?? 256))
      return refuse(fault('E_DATACHANNEL', 'too many DataChannel peers on this gateway: use socket.io'));
    const o = this.#options;
    const config: RtcConfig = {
      iceServers: [...(o.iceServers ?? [])],
      disableAutoNegotiation: true,
      maxMessageSize: this.#ctx.maxPayloadBytes * 4,
      ...(o.bindAddress ? { bindAddress: o.bindAddress } : {}),
      ...(o.portRange ? { portRangeBegin: o.portRange[0], portRangeEnd: o.portRange[1] } : {}),
    };
    let pc: PeerConnection;
    try {
      pc = new ndc.PeerConnection(session.id, config);
    } catch (error) {
      return refuse(fault('E_DATACHANNEL', `could not make a peer connection: ${String(error)}`));
    }
    const lane: Lane = {
      pc,
      dc: undefined,
      state: 'connecting',
      heard: this.#ctx.clock.now(),
      commands: 0,
      seqs: new Map(),
      pings: 0,
      pingSecond: 0,
    };
    this.#lanes.set(session, lane);
    pc.onStateChange((state) => {
      if (
        (state === 'failed' || state === 'closed' || state === 'disconnected') &&
        this.#lanes.get(session) === lane
      )
        guarded(() => this.close(session, `its peer connection ${state}`));
    });
    const dc = pc.createDataChannel('telekit-commands', {
      negotiated: true,
      id: 1,
      unordered: true,
      maxRetransmits: 0,
    });
    lane.dc = dc;
    dc.onOpen(() =>
      guarded(() => {
        if (this.#lanes.get(session) !== lane) return;
        lane.state = 'open';
        lane.heard = this.#ctx.clock.now();
        this.#ctx.metrics.dataChannels.inc();
        this.#ctx.log.debug('DataChannel open', { client: session.id });
      }),
    );
    dc.onClosed(() =>
      guarded(() => {
        if (this.#lanes.get(session) === lane) this.close(session, 'its DataChannel closed');
      }),
    );
    // A throw out of a native callback aborts the process (node-datachannel rethrows it in C++):
    // nothing may escape one.
    dc.onMessage((data) => {
      try {
        this.#receive(session, lane, data);
      } catch (error) {
        this.#ctx.log.warn('DataChannel message failed', { client: session.id, error: String(error) });
        this.close(session, 'its message could not be handled');
      }
    });
    try {
      const answer = await new Promise<string>((resolve, reject) => {
        const local = () => {
          try {
            return pc.localDescription()?.sdp;
          } catch {
            return undefined; // closed meanwhile
          }
        };
        const bound = setTimeout(() => {
          const d = local();
          if (d) resolve(d);
          else reject(new Error('no local description'));
        }, 2_000);
        pc.onGatheringStateChange((state) => {
          if (state !== 'complete') return;
          clearTimeout(bound);
          resolve(local() ?? '');
        });
        pc.setRemoteDescription(offer, 'offer');
        pc.setLocalDescription('answer');
      });
      if (this.#lanes.get(session) !== lane) return refuse(fault('E_DATACHANNEL', 'the offer was replaced'));
      return { ok: true, answer };
    } catch (error) {
      this.close(session, 'its offer failed');
      return refuse(fault('E_BAD_REQUEST', `the offer was refused: ${String(error)}`, { field: 'sdp' }));
    }
  }

  #receive(session: Session, lane: Lane, data: string | Buffer | ArrayBuffer): void {
    const ctx = this.#ctx;
    const now = ctx.clock.now();
    lane.heard = now;
    const bytes =
      typeof data === 'string' ? undefined : data instanceof ArrayBuffer ? new Uint8Array(data) : data;
    let frame: unknown;
    // Larger than any command may be: not decoded at all (a pub is refused below with its topic).
    const oversized = bytes !== undefined && bytes.byteLength > ctx.maxPayloadBytes;
    try {
      frame = bytes && !oversized ? unpackMessage(bytes) : undefined;
    } catch {}
    if (oversized) frame = [DC_FRAME.pub, undefined, undefined];
    const socket = session.sockets.control;
    const isPing = Array.isArray(frame) && frame[0] === DC_FRAME.ping;
    if (
      !Array.isArray(frame) ||
      (frame[0] !== DC_FRAME.pub && !isPing) ||
      (isPing && (frame.length !== 2 || typeof frame[1] !== 'number'))
    ) {
      // Anything but the lane's own frames is a protocol violation, as on socket.io: the lane
      // closes, and the control connection says why.
      ctx.metrics.refusals.inc({ reason: 'protocol' });
      if (recordRefusal(ctx, session, this.#penalise) && socket && session.writable(socket, now))
        socket.emit(
          'fault',
          fault(
            'E_BAD_REQUEST',
            'malformed DataChannel frame: expected a MessagePack array [0, topic, message] or [1, number]; the DataChannel is closed',
          ),
        );
      this.close(session, 'a malformed frame');
      return;
    }
    if (isPing) {
      this.#ping(session, lane, frame[1] as number, now);
      return;
    }
    const [, name, message] = frame as [number, unknown, unknown];
    const superseded = supersededBy(lane.seqs, name, message);
    if (superseded) return void ctx.metrics.drops.inc({ lane: 'control', reason: superseded });
    const reply = (answer: unknown) => {
      if (!recordRefusal(ctx, session, this.#penalise)) return;
      const error = (answer as { error?: WireError }).error;
      if (error && socket && session.writable(socket, now)) socket.emit('fault', error);
    };
    const caller: Caller = { ctx, session, lane: 'control', via: 'datachannel' };
    const answer = dispatch(
      caller,
      'pub',
      [name, message],
      now,
      oversized ? bytes!.byteLength : undefined,
      () => lane.commands++,
    );
    if (!isRefusal(answer)) return;
    const error = (answer as { error?: WireError }).error;
    // An unordered lane delivers a superseded command after its successor now and then: dropped by
    // the gate's seq rule, counted, not held against the sender.
    if (error?.code === 'E_OUT_OF_ORDER' && typeof name === 'string' && STREAMED_TOPICS.has(name)) {
      session.refused--;
      ctx.metrics.drops.inc({ lane: 'control', reason: 'reordered' });
      return;
    }
    reply(answer);
  }

  /**
   * Echoes a ping (the client's measure of the lane), at most PING_RATE a second and not while the
   * channel is behind; a client pinging past twice that loses its lane, counted as a refusal.
   */
  #ping(session: Session, lane: Lane, n: number, now: number): void {
    const second = Math.floor(now / 1000);
    if (second !== lane.pingSecond) {
      lane.pingSecond = second;
      lane.pings = 0;
    }
    if (++lane.pings > PING_RATE) {
      this.#ctx.metrics.drops.inc({ lane: 'control', reason: 'rate' });
      if (lane.pings > 2 * PING_RATE) {
        this.#ctx.metrics.refusals.inc({ reason: 'rate' });
        recordRefusal(this.#ctx, session, this.#penalise);
        this.close(session, `more than ${2 * PING_RATE} pings a second`);
      }
      return;
    }
    const dc = lane.dc;
    if (!dc?.isOpen() || dc.bufferedAmount() > PING_BUFFERED_BYTES) return;
    try {
      dc.sendMessageBinary(packMessage([DC_FRAME.ping, n]));
    } catch {
      // The association is failing (a send the native side refuses): its close follows.
      this.close(session, 'a send failed');
    }
  }

  /** Closes lanes nothing came through for too long. */
  #sweep(): void {
    const now = this.#ctx.clock.now();
    const silence = this.#options.silenceMs ?? 1_000;
    for (const [session, lane] of this.#lanes)
      if (lane.state === 'open' && now - lane.heard > silence)
        this.close(session, `silent for ${silence} ms`);
      else if (lane.state === 'connecting' && now - lane.heard > 30_000) this.close(session, 'never opened');
  }

  #stopIfHolder(session: Session, why: string): void {
    if (!this.#ctx.backplane.isHolder(session.id)) return;
    // Whatever it commanded stops now, not at the deadman: its client falls back to socket.io and
    // commands again from there.
    this.#ctx.pipeline.stopMotion();
    this.#ctx.log.info('DataChannel of the lease holder closed: motion stopped', { client: session.id, why });
  }
}

const refuse = (error: WireError): Ack => ({ ok: false, error });

/** Runs `f` from a native callback, where a throw would abort the process. */
function guarded(f: () => void): void {
  try {
    f();
  } catch {}
}
