import type { Clock } from '@telekit/core';
import { packMessage, unpackMessage } from '../codec.js';
import type { Percentiles } from '../protocol.js';
import { withoutCandidates } from '../sdp.js';
import { Recent } from '../server/recent.js';

/** Makes a peer connection: the page's own `RTCPeerConnection`, or in Node a polyfill's. */
export type RtcPeerConnectionFactory = (configuration: RTCConfiguration) => RTCPeerConnection;

/** The DataChannel lane as the client sees it. */
export interface DataChannelInfo {
  /**
   * `off`: not tried (`controlLane: 'socket.io'`, no WebRTC here, or the gateway has none);
   * `connecting`; `open`: streamed commands go over it; `failed`: it did not open or died, and is
   * tried again later (`retryInMs`).
   */
  state: 'off' | 'connecting' | 'open' | 'failed';
  /** Why it is off or failed. */
  reason?: string;
  /** Round trip of the lane's own pings (4 a second), ms. */
  rtt: Percentiles | null;
}

/** The frames on the DataChannel, each one MessagePack array (the gateway's `DC_FRAME`). */
const PUB = 0;
const PING = 1;

export interface DataLaneOptions {
  clock: Clock;
  factory: RtcPeerConnectionFactory;
  configuration: RTCConfiguration;
  /** Give up opening after this long, ms. */
  openTimeoutMs: number;
  /** Declare the lane dead after this long without a pong, ms. */
  silenceMs: number;
  /**
   * Send each streamed command a second time this long after the first, ms, unless a newer one of
   * its topic left meanwhile (0: never). A lost datagram then costs a few milliseconds instead of
   * a command period; the gateway drops the copy by its `seq` before anything counts it.
   */
  repeatMs: number;
  /** Sends one `rtc` signalling message and resolves with the gateway's answer. */
  signal(
    message: unknown,
  ): Promise<{ ok: boolean; answer?: string; error?: { code: string; message: string } }>;
  /** The lane's state changed. */
  changed(): void;
}

/**
 * The client's end of the DataChannel control lane: one peer connection to the gateway with one
 * unordered channel without retransmissions (negotiated as id 1), for streamed commands. Opened
 * after the socket.io handshake; closed (and `failed`) when it does not open within its bound, when
 * ICE fails, or when its pings go unanswered — the client then sends over socket.io again.
 */
export class ClientDataLane {
  private readonly _o: DataLaneOptions;
  private _pc: RTCPeerConnection | undefined;
  private _dc: RTCDataChannel | undefined;
  private _state: DataChannelInfo['state'] = 'off';
  private _reason: string | undefined;
  private _timer: ReturnType<typeof setInterval> | undefined;
  private _openTimer: ReturnType<typeof setTimeout> | undefined;
  private _heard = 0;
  private readonly _rtts = new Recent(64);
  private _generation = 0;
  /** Each streamed topic's copy still to send. */
  private readonly _repeats = new Map<string, ReturnType<typeof setTimeout>>();

  constructor(options: DataLaneOptions) {
    this._o = options;
  }

  get state(): DataChannelInfo['state'] {
    return this._state;
  }

  get open(): boolean {
    return this._state === 'open' && this._dc?.readyState === 'open';
  }

  info(): DataChannelInfo {
    return {
      state: this._state,
      ...(this._reason === undefined ? {} : { reason: this._reason }),
      rtt: this._rtts.percentiles(),
    };
  }

  /** Sends a streamed command; false when the lane is not open (or its buffer is backed up). */
  send(topic: string, message: unknown): boolean {
    const dc = this._dc;
    if (!this.open || !dc) return false;
    // A backed-up channel (a stalled path) holds stale commands: better the reliable lane.
    if (dc.bufferedAmount > 64 * 1024) return false;
    const frame = packMessage([PUB, topic, message]) as Uint8Array<ArrayBuffer>;
    try {
      dc.send(frame);
    } catch {
      return false;
    }
    this._repeat(topic, frame);
    return true;
  }

  /** Sends `frame` again after `repeatMs`, replacing the copy an older command of `topic` awaited. */
  private _repeat(topic: string, frame: Uint8Array<ArrayBuffer>): void {
    clearTimeout(this._repeats.get(topic));
    if (this._o.repeatMs <= 0) return;
    const dc = this._dc;
    const timer = setTimeout(() => {
      this._repeats.delete(topic);
      if (this._dc !== dc || !this.open || dc!.bufferedAmount > 64 * 1024) return;
      try {
        dc!.send(frame);
      } catch {}
    }, this._o.repeatMs);
    (timer as { unref?: () => void }).unref?.();
    this._repeats.set(topic, timer);
  }

  /** Opens the lane (resolves once it is open, or rejects saying why not). */
  async start(): Promise<void> {
    this._teardown();
    const generation = ++this._generation;
    const o = this._o;
    this._set('connecting');
    let pc: RTCPeerConnection;
    try {
      pc = o.factory({ iceServers: [], ...o.configuration });
    } catch (error) {
      return this._fail(`could not make a peer connection: ${String(error)}`, generation);
    }
    this._pc = pc;
    const dc = pc.createDataChannel('telekit-commands', {
      negotiated: true,
      id: 1,
      ordered: false,
      maxRetransmits: 0,
    });
    dc.binaryType = 'arraybuffer';
    this._dc = dc;
    // The whole negotiation is bounded: a peer connection may also hang before it ever checks.
    const bound = new Promise<never>((_, reject) => {
      this._openTimer = setTimeout(
        () => reject(new Error(`did not open within ${o.openTimeoutMs} ms`)),
        o.openTimeoutMs,
      );
    });
    bound.catch(() => undefined);
    const opened = new Promise<void>((resolve, reject) => {
      dc.onopen = () => resolve();
      pc.onconnectionstatechange = () => {
        const s = pc.connectionState;
        if (s === 'failed' || s === 'closed') reject(new Error(`its peer connection ${s}`));
      };
    });
    opened.catch(() => undefined);
    dc.onmessage = (e: MessageEvent) => this._onMessage(e.data);
    dc.onclose = () => {
      if (generation === this._generation && this._state !== 'failed')
        this._fail('its DataChannel closed', generation);
    };
    // Candidates go to the gateway once it has answered: it then knows this side before the checks.
    const pending: string[] = [];
    let answered = false;
    let mid = '0';
    const sendCandidates = (candidates: string[]) => {
      if (candidates.length > 0 && generation === this._generation)
        void o.signal({ type: 'candidates', mid, candidates }).catch(() => undefined);
    };
    pc.onicecandidate = (e: RTCPeerConnectionIceEvent) => {
      const c = e.candidate?.candidate;
      if (!c) return;
      if (answered) sendCandidates([c]);
      else pending.push(c);
    };
    const negotiate = async () => {
      await pc.setLocalDescription(await pc.createOffer());
      const offer = withoutCandidates(pc.localDescription?.sdp ?? '');
      mid = offer.mid;
      for (const c of offer.candidates) if (!pending.includes(c)) pending.push(c);
      const a = await o.signal({ type: 'offer', sdp: offer.sdp });
      if (generation !== this._generation) throw new Error('replaced');
      if (!a.ok || typeof a.answer !== 'string') {
        const why = a.error ? `${a.error.code}: ${a.error.message}` : 'no answer';
        // A gateway without the lane will not grow one, nor give one to a role that may send no
        // streamed command (a viewer): stay on socket.io.
        if (a.error?.code === 'E_NO_DATACHANNEL' || a.error?.code === 'E_FORBIDDEN') {
          this._teardown();
          this._reason = why;
          this._set('off');
          throw new Error(why);
        }
        throw new Error(`the gateway refused the offer: ${why}`);
      }
      await pc.setRemoteDescription({ type: 'answer', sdp: a.answer });
      answered = true;
      sendCandidates(pending.splice(0));
      await opened;
    };
    try {
      await Promise.race([negotiate(), bound]);
    } catch (error) {
      if (this._state === 'off') throw error;
      this._fail((error as Error).message ?? String(error), generation);
      throw error;
    } finally {
      if (this._openTimer) clearTimeout(this._openTimer);
      this._openTimer = undefined;
    }
    if (generation !== this._generation) return;
    this._heard = o.clock.now();
    this._reason = undefined;
    this._set('open');
    this._timer = setInterval(() => this._tick(generation), 250);
  }

  /** Closes the lane; `reason` says why it is off. */
  stop(reason: string): void {
    this._generation++;
    this._teardown();
    this._reason = reason;
    this._set('off');
  }

  private _onMessage(data: unknown): void {
    let frame: unknown;
    try {
      frame = unpackMessage(data instanceof ArrayBuffer ? new Uint8Array(data) : (data as Uint8Array));
    } catch {
      return;
    }
    if (!Array.isArray(frame) || frame[0] !== PING || typeof frame[1] !== 'number') return;
    const now = this._o.clock.now();
    this._heard = now;
    this._rtts.add(now - frame[1]);
  }

  private _tick(generation: number): void {
    if (generation !== this._generation) return;
    const now = this._o.clock.now();
    if (now - this._heard > this._o.silenceMs) {
      this._fail(`no answer on it for ${this._o.silenceMs} ms`, generation);
      return;
    }
    try {
      if (this._dc?.readyState === 'open') this._dc.send(packMessage([PING, now]) as Uint8Array<ArrayBuffer>);
    } catch {}
  }

  private _fail(reason: string, generation: number): void {
    if (generation !== this._generation) return;
    this._generation++;
    this._teardown();
    this._reason = reason;
    this._set('failed');
  }

  private _teardown(): void {
    for (const timer of this._repeats.values()) clearTimeout(timer);
    this._repeats.clear();
    if (this._timer) clearInterval(this._timer);
    this._timer = undefined;
    if (this._openTimer) clearTimeout(this._openTimer);
    this._openTimer = undefined;
    const pc = this._pc;
    const dc = this._dc;
    this._pc = undefined;
    this._dc = undefined;
    if (dc) {
      dc.onopen = dc.onclose = dc.onmessage = null;
      try {
        dc.close();
      } catch {}
    }
    if (pc) {
      pc.onicecandidate = pc.onconnectionstatechange = null;
      try {
        pc.close();
      } catch {}
    }
  }

  private _set(state: DataChannelInfo['state']): void {
    if (this._state === state) return;
    this._state = state;
    this._o.changed();
  }
}
