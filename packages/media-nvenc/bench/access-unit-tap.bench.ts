/**
 * What the access-unit tap costs in this process: RTP packets of H.264 pictures the size a 480p30
 * stream at 1.5 Mbit/s sends (≈ 6 KB a picture, a 30 KB keyframe every 30, in 1,200-byte FU-A
 * fragments as ffmpeg's RTP muxer cuts them) turned back into access units, beside a bare
 * concatenation of the same payloads (the least any tap must do).
 */
import type { BenchMeasurement, Benchmark } from '@telekit/testkit/bench';
import { H264Depacketizer, rtpPayload } from '../src/index.js';

const MTU_PAYLOAD = 1_188;

/** The RTP packets of one picture: FU-A fragments of one NAL unit of `size` bytes (SPS/PPS first on a keyframe). */
function picture(seq: number, ts: number, size: number, key: boolean): Uint8Array[] {
  const packets: Uint8Array[] = [];
  const header = (s: number, marker: boolean, payload: Uint8Array) => {
    const p = new Uint8Array(12 + payload.length);
    const v = new DataView(p.buffer);
    p[0] = 0x80;
    p[1] = (marker ? 0x80 : 0) | 102;
    v.setUint16(2, s & 0xffff);
    v.setUint32(4, ts >>> 0);
    v.setUint32(8, 4242);
    p.set(payload, 12);
    return p;
  };
  if (key) packets.push(header(seq++, false, new Uint8Array([24, 0, 4, 0x67, 1, 2, 3, 0, 3, 0x68, 4, 5])));
  const nal = new Uint8Array(size).fill(7);
  nal[0] = key ? 0x65 : 0x41;
  const body = nal.subarray(1);
  for (let i = 0; i < body.length; i += MTU_PAYLOAD) {
    const start = i === 0;
    const end = i + MTU_PAYLOAD >= body.length;
    const chunk = body.subarray(i, i + MTU_PAYLOAD);
    const p = new Uint8Array(2 + chunk.length);
    p[0] = (nal[0]! & 0xe0) | 28;
    p[1] = (start ? 0x80 : 0) | (end ? 0x40 : 0) | (nal[0]! & 0x1f);
    p.set(chunk, 2);
    packets.push(header(seq++, end, p));
  }
  return packets;
}

const PICTURES = 3_000;
function stream(): Uint8Array[] {
  const out: Uint8Array[] = [];
  let seq = 0;
  for (let i = 0; i < PICTURES; i++) {
    const pkts = picture(seq, i * 3_000, i % 30 === 0 ? 30_000 : 6_000, i % 30 === 0);
    seq += pkts.length;
    out.push(...pkts);
  }
  return out;
}

function run(rebuild: (packets: Uint8Array[]) => number): BenchMeasurement {
  const packets = stream();
  rebuild(packets); // warm-up
  const t0 = performance.now();
  let units = 0;
  for (let r = 0; r < 5; r++) units += rebuild(packets);
  const s = (performance.now() - t0) / 1000;
  return {
    rate: units / s,
    extra: { packets: packets.length * 5, usPerUnit: ((s * 1e6) / units).toFixed(2) },
  };
}

export const benchmarks: Benchmark[] = [
  {
    id: 'media-nvenc.access-unit-tap',
    title: 'RTP H.264 (480p30-sized pictures, FU-A) back into access units, units/s',
    kind: 'throughput',
    baseline: {
      name: 'bare: concatenate the payloads up to each marker bit',
      run: async () =>
        run((packets) => {
          let units = 0;
          let parts: Uint8Array[] = [];
          for (const p of packets) {
            const r = rtpPayload(p)!;
            parts.push(r.payload);
            if (r.marker) {
              Buffer.concat(parts);
              parts = [];
              units++;
            }
          }
          return units;
        }),
    },
    candidates: [
      {
        name: 'H264Depacketizer (Annex B, SPS/PPS on keyframes, loss checks)',
        run: async () =>
          run((packets) => {
            const d = new H264Depacketizer('cam');
            let units = 0;
            for (const p of packets) units += d.push(p).length;
            return units;
          }),
      },
    ],
  },
];
