import { describe, expect, it } from 'vitest';
import { H264Depacketizer, rtpPayload } from './h264-depacketizer.js';

/** An RTP packet of H.264 payload `p`. */
function rtp(seq: number, timestamp: number, marker: boolean, p: number[]): Uint8Array {
  const b = new Uint8Array(12 + p.length);
  const v = new DataView(b.buffer);
  b[0] = 0x80;
  b[1] = (marker ? 0x80 : 0) | 102;
  v.setUint16(2, seq & 0xffff);
  v.setUint32(4, timestamp);
  v.setUint32(8, 1234);
  b.set(p, 12);
  return b;
}
const sps = [0x67, 1, 2, 3];
const pps = [0x68, 4, 5];
const idr = [0x65, 9, 9, 9, 9, 9, 9];
const slice = [0x41, 7, 7];
const hex = (a: Uint8Array) => Buffer.from(a).toString('hex');
const annexB = (...nals: number[][]) => hex(new Uint8Array(nals.flatMap((n) => [0, 0, 0, 1, ...n])));

describe('H264Depacketizer', () => {
  it('rebuilds a keyframe from a STAP-A and FU-A fragments, and the picture after it from a single NAL unit', () => {
    const d = new H264Depacketizer('cam');
    const stap = [24, 0, sps.length, ...sps, 0, pps.length, ...pps];
    const fuIndicator = (idr[0]! & 0xe0) | 28;
    const type = idr[0]! & 0x1f;
    expect(d.push(rtp(10, 3000, false, stap))).toEqual([]);
    expect(d.push(rtp(11, 3000, false, [fuIndicator, 0x80 | type, ...idr.slice(1, 4)]))).toEqual([]);
    const [key] = d.push(rtp(12, 3000, true, [fuIndicator, 0x40 | type, ...idr.slice(4)]));
    expect(key?.keyframe).toBe(true);
    expect(hex(key!.data)).toBe(annexB(sps, pps, idr));
    const [next] = d.push(rtp(13, 6000, true, slice));
    expect(next?.keyframe).toBe(false);
    expect(hex(next!.data)).toBe(annexB(slice));
    expect(next!.rtpTime).toBe(6000);
  });

  it('drops what a lost packet spoils until the next keyframe, which gets the last SPS and PPS in front', () => {
    const d = new H264Depacketizer('cam');
    d.push(rtp(1, 0, false, sps));
    d.push(rtp(2, 0, false, pps));
    expect(d.push(rtp(3, 0, true, idr))).toHaveLength(1);
    // seq 4 is lost
    expect(d.push(rtp(5, 3000, true, slice))).toEqual([]);
    expect(d.push(rtp(6, 6000, true, slice))).toEqual([]);
    const [key] = d.push(rtp(7, 9000, true, idr));
    expect(hex(key!.data)).toBe(annexB(sps, pps, idr));
    expect(d.push(rtp(8, 12000, true, slice))).toHaveLength(1);
  });

  it('waits for a keyframe before handing anything on, and ignores what is not RTP', () => {
    const d = new H264Depacketizer('cam');
    expect(d.push(rtp(1, 0, true, slice))).toEqual([]);
    expect(d.push(new Uint8Array([1, 2, 3]))).toEqual([]);
    expect(rtpPayload(new Uint8Array(20))).toBeUndefined();
  });
});
