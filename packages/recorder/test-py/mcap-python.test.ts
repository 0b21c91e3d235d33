/**
 * The Python `mcap` package (PyPI) as an independent reader of a recording: every channel with its
 * schema and encodings, every message decoded, the same counts as @mcap/core's reader. Skipped,
 * saying why, where the project's `.venv` has no `mcap` (`scripts/setup.sh` installs it).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createApp, inProcess, silentLogger, Topics } from '@telekit/core';
import { nvencMedia } from '@telekit/media-nvenc';
import { missingRequirement } from '@telekit/testkit';
import { describe, expect, it, vi } from 'vitest';
import { RecorderToken, readRecording, recorder } from '../src/index.js';
import { kinematicRobot } from '../test/robot.js';

const python = fileURLToPath(new URL('../../../.venv/bin/python', import.meta.url));
const has =
  existsSync(python) && spawnSync(python, ['-c', 'import mcap, zstandard'], { stdio: 'ignore' }).status === 0;
const reason = missingRequirement([
  { ok: has, need: `mcap and zstandard in ${python} (scripts/setup.sh installs them)` },
]);

if (reason) {
  describe(`the Python mcap reader (skipped: ${reason})`, () => {
    it.skip(`reads every channel and message of a recording (skipped: ${reason})`, () => {});
  });
} else {
  describe('the Python mcap reader', () => {
    it('reads every channel and message of a recording with telemetry, commands, episodes and video', {
      timeout: 120_000,
    }, async () => {
      const dir = mkdtempSync(join(tmpdir(), 'telekit-py-'));
      const app = createApp({
        logger: silentLogger,
        plugins: [
          inProcess(),
          kinematicRobot(),
          nvencMedia({
            lingerMs: 200,
            streams: [
              {
                id: 'cam',
                hls: false,
                profile: { width: 320, height: 240, fps: 30, bitrateKbps: 600, gopSeconds: 1 },
              },
            ],
          }),
          recorder({ dir }),
        ],
      });
      try {
        await app.start();
        const rec = app.resolve(RecorderToken);
        await rec.startEpisode('python reads this');
        let seq = 0;
        await vi.waitFor(
          async () => {
            app.transport.publish(Topics.twist, {
              header: { seq: seq++, stamp: Date.now(), sender: 'operator' },
              linear: { x: 0.3, y: 0, z: 0 },
              angular: { x: 0, y: 0, z: 0.1 },
            });
            await rec.flush();
            expect(rec.status().messages['/video/cam'] ?? 0).toBeGreaterThanOrEqual(30);
          },
          { timeout: 90_000, interval: 50 },
        );
        await rec.stopEpisode();
        const file = rec.status().file!;
        await app.stop();

        const out = spawnSync(python, [fileURLToPath(new URL('./read_mcap.py', import.meta.url)), file], {
          encoding: 'utf8',
        });
        expect(out.stderr).toBe('');
        const py = JSON.parse(out.stdout) as {
          channels: Record<string, { schema: string; schemaEncoding: string; messageEncoding: string }>;
          counts: Record<string, number>;
          metadata: Record<string, Record<string, string>>;
          chunks: number;
        };
        const ours = await readRecording(file);
        const counts: Record<string, number> = {};
        for (const m of ours.messages) counts[m.topic] = (counts[m.topic] ?? 0) + 1;
        expect(py.counts).toEqual(counts);
        expect(Object.keys(py.channels).sort()).toEqual([...ours.channels.keys()].sort());
        for (const t of [
          '/telemetry/pose',
          '/telemetry/actuation',
          '/controller/twist',
          '/video/cam',
          '/recorder/episode',
        ])
          expect(py.counts[t] ?? 0, t).toBeGreaterThan(0);
        for (const ch of Object.values(py.channels))
          expect(ch).toMatchObject({ schemaEncoding: 'jsonschema', messageEncoding: 'json' });
        expect(py.channels['/video/cam']?.schema).toBe('foxglove.CompressedVideo');
        expect(py.metadata['episode-0']).toMatchObject({ task: 'python reads this' });
        expect(py.chunks).toBeGreaterThan(0);
      } finally {
        await app.stop();
        rmSync(dir, { recursive: true, force: true });
      }
    });
  });
}
