/**
 * IVF, the simplest container ffmpeg reads with a time on every frame: a 32-byte file header, then
 * per frame a 12-byte header (its size and its presentation time) and the frame. Here it carries
 * H.264 access units into an ffmpeg that copies them into RTP and HLS: unlike a raw `h264` pipe,
 * nothing has to be parsed to find where a picture ends (a parser holds each picture back until
 * the next one starts) and each picture keeps the time it was written at.
 */

/** IVF's time base here: the 90 kHz RTP video clock, so ffmpeg's RTP timestamps are these ticks. */
export const IVF_CLOCK_HZ = 90_000;

/** The file header of an H.264 IVF stream of `width`×`height` on the 90 kHz clock. */
export function ivfHeader(width: number, height: number): Uint8Array {
  const b = Buffer.alloc(32);
  b.write('DKIF', 0, 'latin1');
  b.writeUInt16LE(0, 4); // version
  b.writeUInt16LE(32, 6); // header size
  b.write('H264', 8, 'latin1'); // codec FourCC
  b.writeUInt16LE(width & 0xffff, 12);
  b.writeUInt16LE(height & 0xffff, 14);
  b.writeUInt32LE(IVF_CLOCK_HZ, 16); // time base denominator
  b.writeUInt32LE(1, 20); // time base numerator
  b.writeUInt32LE(0, 24); // frame count: unknown (a live stream)
  return b;
}

/** One frame: its 12-byte header (size, presentation time in 90 kHz ticks) and the data. */
export function ivfFrame(data: Uint8Array, pts: number): Uint8Array {
  const b = Buffer.alloc(12 + data.byteLength);
  b.writeUInt32LE(data.byteLength, 0);
  b.writeBigUInt64LE(BigInt(Math.max(0, Math.floor(pts))), 4);
  b.set(data, 12);
  return b;
}

/** True when an Annex B access unit holds an IDR picture (NAL type 5): a decoder can start there. */
export function isH264Keyframe(au: Uint8Array): boolean {
  for (let i = 0; i + 3 < au.length; i++) {
    if (au[i] === 0 && au[i + 1] === 0 && au[i + 2] === 1) {
      if ((au[i + 3]! & 0x1f) === 5) return true;
      i += 2;
    }
  }
  return false;
}
