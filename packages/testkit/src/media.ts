/**
 * Node-only checks of media for tests: `@telekit/testkit/media`.
 *
 * @module
 */
import { spawn } from 'node:child_process';

/** What ffprobe read from an H.264 elementary stream. */
export interface H264Probe {
  readonly width: number;
  readonly height: number;
  /** Pictures decoded. */
  readonly frames: number;
}

/**
 * Decodes an H.264 elementary stream (Annex B) with the system's ffprobe and says its size and how
 * many pictures decoded: what a test of an encoder, a tap or a recording checks its bytes with.
 * Rejects with ffprobe's own words when it reads nothing.
 *
 * @example
 * ```ts
 * import { probeH264 } from '@telekit/testkit/media';
 * const { width, height, frames } = await probeH264(annexB);
 * ```
 */
export function probeH264(h264: Uint8Array): Promise<H264Probe> {
  return new Promise((resolve, reject) => {
    const p = spawn('ffprobe', [
      ...['-v', 'error', '-f', 'h264', '-count_frames', '-select_streams', 'v:0'],
      ...['-show_entries', 'stream=width,height,nb_read_frames', '-of', 'json', 'pipe:0'],
    ]);
    let out = '';
    let err = '';
    p.stdout.on('data', (d: Buffer) => {
      out += d.toString();
    });
    p.stderr.on('data', (d: Buffer) => {
      err += d.toString();
    });
    p.stdin.on('error', () => undefined); // ffprobe may stop reading early
    p.on('error', reject);
    p.on('close', () => {
      try {
        const s = (
          JSON.parse(out) as { streams: { width: number; height: number; nb_read_frames: string }[] }
        ).streams[0]!;
        resolve({ width: s.width, height: s.height, frames: Number(s.nb_read_frames) });
      } catch (error) {
        reject(new Error(`ffprobe read no H.264 stream (${String(error)}): ${out}${err}`));
      }
    });
    p.stdin.end(Buffer.from(h264));
  });
}
