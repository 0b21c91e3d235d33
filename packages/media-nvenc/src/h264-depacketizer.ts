/** One H.264 access unit (one picture), as Annex B: every NAL unit after a 4-byte start code. */
export interface AccessUnit {
  /** The stream it belongs to. */
  readonly stream: string;
  /** Annex B bytes. A keyframe starts with the SPS and PPS it needs. */
  readonly data: Uint8Array;
  /** True when it holds an IDR picture: a decoder can start here. */
  readonly keyframe: boolean;
  /** Its RTP timestamp (90 kHz), unwrapped: it only grows within one encoder's run. */
  readonly rtpTime: number;
  /** When its last packet reached this process (`Date.now()`, ms). */
  readonly receivedAt: number;
}

const START = new Uint8Array([0, 0, 0, 1]);
const NAL_IDR = 5;
const NAL_SPS = 7;
const NAL_PPS = 8;
const STAP_A = 24;
const FU_A = 28;

/** The payload of an RTP packet (RFC 3550), or undefined when it is not one. */
export function rtpPayload(
  packet: Uint8Array,
): { seq: number; timestamp: number; marker: boolean; payload: Uint8Array } | undefined {
  if (packet.length < 12 || packet[0]! >> 6 !== 2) return undefined;
  const cc = packet[0]! & 0x0f;
  let offset = 12 + cc * 4;
  if (packet[0]! & 0x10) {
    if (packet.length < offset + 4) return undefined;
    offset += 4 + ((packet[offset + 2]! << 8) | packet[offset + 3]!) * 4;
  }
  let end = packet.length;
  if (packet[0]! & 0x20) end -= packet[packet.length - 1]!;
  if (end <= offset) return undefined;
  const view = new DataView(packet.buffer, packet.byteOffset, packet.byteLength);
  return {
    seq: view.getUint16(2),
    timestamp: view.getUint32(4),
    marker: (packet[1]! & 0x80) !== 0,
    payload: packet.subarray(offset, end),
  };
}

/**
 * RTP H.264 (RFC 6184, packetization mode 1) back into access units, the inverse of what ffmpeg's
 * RTP muxer does: single NAL unit packets, STAP-A aggregates and FU-A fragments are collected
 * until the marker bit (or a new timestamp) ends the picture.
 *
 * A lost packet (a gap in the sequence numbers) spoils the picture it falls in and every picture
 * after it until the next keyframe: those are dropped, never handed on half-made. The last SPS and
 * PPS seen are put in front of a keyframe that came without them, so every keyframe can start a
 * decoder on its own.
 */
export class H264Depacketizer {
  readonly #stream: string;
  /** The picture's NAL units so far, each as its parts (an FU-A's fragments are not copied until the end). */
  #nals: Uint8Array[][] = [];
  #fu: Uint8Array[] | undefined;
  #timestamp: number | undefined;
  #lastSeq: number | undefined;
  #spoiled = true;
  #sps: Uint8Array | undefined;
  #pps: Uint8Array | undefined;
  #wraps = 0;
  #lastRaw: number | undefined;

  constructor(stream: string) {
    this.#stream = stream;
  }

  /**
   * Takes one RTP packet; returns the access units it completes (none, or one; two when a packet
   * with a new timestamp arrives after a picture that had no marker bit).
   */
  push(packet: Uint8Array, receivedAt = Date.now()): AccessUnit[] {
    const rtp = rtpPayload(packet);
    if (!rtp) return [];
    const out: AccessUnit[] = [];
    if (this.#lastSeq !== undefined && rtp.seq !== ((this.#lastSeq + 1) & 0xffff)) {
      // A gap: what is collected is incomplete, and what follows refers to what was lost.
      if (((rtp.seq - this.#lastSeq) & 0xffff) > 0x8000) return []; // late or repeated: ignore
      this.#reset();
      this.#spoiled = true;
    }
    this.#lastSeq = rtp.seq;
    if (this.#timestamp !== undefined && rtp.timestamp !== this.#timestamp) {
      const au = this.#finish(receivedAt);
      if (au) out.push(au);
    }
    this.#timestamp = rtp.timestamp;
    this.#take(rtp.payload);
    if (rtp.marker) {
      const au = this.#finish(receivedAt);
      if (au) out.push(au);
    }
    return out;
  }

  #take(p: Uint8Array): void {
    const type = p[0]! & 0x1f;
    if (type >= 1 && type <= 23) {
      this.#fu = undefined;
      this.#nals.push([p]);
    } else if (type === STAP_A) {
      let i = 1;
      while (i + 2 <= p.length) {
        const size = (p[i]! << 8) | p[i + 1]!;
        i += 2;
        if (size === 0 || i + size > p.length) {
          this.#spoiled = true;
          return;
        }
        this.#nals.push([p.subarray(i, i + size)]);
        i += size;
      }
    } else if (type === FU_A && p.length > 2) {
      const start = (p[1]! & 0x80) !== 0;
      const end = (p[1]! & 0x40) !== 0;
      if (start) this.#fu = [new Uint8Array([(p[0]! & 0xe0) | (p[1]! & 0x1f)])];
      if (!this.#fu) {
        // The middle of a fragment whose start was lost.
        this.#spoiled = true;
        return;
      }
      this.#fu.push(p.subarray(2));
      if (end) {
        this.#nals.push(this.#fu);
        this.#fu = undefined;
      }
    } else {
      // STAP-B, MTAP, FU-B: not in packetization mode 1.
      this.#spoiled = true;
    }
  }

  #finish(receivedAt: number): AccessUnit | undefined {
    const nals = this.#nals;
    const raw = this.#timestamp;
    const partial = this.#fu !== undefined;
    this.#reset();
    if (nals.length === 0 || raw === undefined) return undefined;
    const types = nals.map((n) => n[0]![0]! & 0x1f);
    for (const [i, t] of types.entries()) {
      if (t === NAL_SPS) this.#sps = concat(nals[i]!);
      if (t === NAL_PPS) this.#pps = concat(nals[i]!);
    }
    const keyframe = types.includes(NAL_IDR);
    if (partial) {
      this.#spoiled = true;
      return undefined;
    }
    if (keyframe) this.#spoiled = false;
    if (this.#spoiled) return undefined;
    if (keyframe && !types.includes(NAL_SPS) && this.#sps && this.#pps)
      nals.unshift([this.#sps], [this.#pps]);
    else if (keyframe && !types.includes(NAL_PPS) && this.#pps) nals.splice(1, 0, [this.#pps]);
    const parts: Uint8Array[] = [];
    for (const n of nals) parts.push(START, ...n);
    return { stream: this.#stream, data: concat(parts), keyframe, rtpTime: this.#unwrap(raw), receivedAt };
  }

  #unwrap(raw: number): number {
    if (this.#lastRaw !== undefined && raw < this.#lastRaw && this.#lastRaw - raw > 0x80000000) this.#wraps++;
    this.#lastRaw = raw;
    return this.#wraps * 0x100000000 + raw;
  }

  #reset(): void {
    this.#nals = [];
    this.#fu = undefined;
    this.#timestamp = undefined;
  }
}

function concat(parts: readonly Uint8Array[]): Uint8Array {
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  let i = 0;
  for (const p of parts) {
    out.set(p, i);
    i += p.length;
  }
  return out;
}
