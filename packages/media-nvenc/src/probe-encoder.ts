import { TelekitError } from '@telekit/core';
import { spawnChild } from '@telekit/core/node';
import type { EncoderName } from './encoder-args.js';

/** Runs a short command that dies with this process; killed after `timeoutMs`. */
const run = (cmd: string, args: string[], timeoutMs: number) =>
  new Promise<{ ok: boolean; stderr: string }>((resolve) => {
    const child = spawnChild(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
      if (stderr.length < 64_000) stderr += chunk;
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('error', (error) => {
      clearTimeout(timer);
      resolve({ ok: false, stderr: error.message });
    });
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ ok: code === 0, stderr });
    });
  });

/**
 * Whether an encoder actually works here: encodes one small frame with it. (ffmpeg lists
 * `h264_nvenc` on machines without a GPU, then fails with `Cannot load libcuda.so.1`.)
 */
export async function probeEncoder(
  name: Exclude<EncoderName, 'auto'>,
  ffmpeg = 'ffmpeg',
): Promise<{ ok: boolean; reason: string }> {
  const r = await run(
    ffmpeg,
    [
      '-hide_banner',
      '-loglevel',
      'error',
      '-f',
      'lavfi',
      '-i',
      'color=size=256x256:rate=1',
      '-frames:v',
      '1',
      '-c:v',
      name,
      '-f',
      'null',
      '-',
    ],
    15_000,
  );
  const reason = r.ok ? 'works' : (r.stderr.split('\n').find((l) => l.trim()) ?? 'failed').trim();
  return { ok: r.ok, reason };
}

/** Picks the encoder for `auto`: NVENC if it works here, else libx264; any other name as given, if it works. */
export async function chooseEncoder(
  name: EncoderName = 'auto',
  ffmpeg = 'ffmpeg',
): Promise<{ encoder: Exclude<EncoderName, 'auto'>; why: string }> {
  if (name === 'auto') {
    const nvenc = await probeEncoder('h264_nvenc', ffmpeg);
    if (nvenc.ok) return { encoder: 'h264_nvenc', why: 'NVENC works here' };
    return { encoder: 'libx264', why: `NVENC unavailable (${nvenc.reason}); software H.264` };
  }
  const p = await probeEncoder(name, ffmpeg);
  if (!p.ok)
    throw new TelekitError('E_MEDIA_ENCODER', `encoder ${name} does not work here: ${p.reason}`, {
      context: { encoder: name },
    });
  return { encoder: name, why: 'as configured' };
}
