/**
 * The LeRobot export's arm default against the real arm scene: the simulator sidecar (Python, MuJoCo)
 * runs the bundled arm, an operator sends joint targets during an episode, and the export's auto
 * preset picks the arm — every joint's position as the state, every joint's target as the action.
 * Skipped, saying why, where the project's `.venv` has no MuJoCo (`scripts/setup.sh` installs it).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createApp, inProcess, silentLogger, Topics } from '@telekit/core';
import { findPython, genesisSim } from '@telekit/sim-genesis';
import { missingRequirement } from '@telekit/testkit';
import { asyncBufferFromFile, parquetReadObjects } from 'hyparquet';
import { describe, expect, it, vi } from 'vitest';
import { exportLeRobot, RecorderToken, recorder } from '../src/index.js';

const python = findPython();
const has = spawnSync(python, ['-c', 'import mujoco, telekit_sim'], { stdio: 'ignore' }).status === 0;
const reason = missingRequirement([
  { ok: has, need: `mujoco and telekit_sim in ${python} (scripts/setup.sh)` },
]);

if (reason) {
  describe(`the LeRobot export of the arm scene (skipped: ${reason})`, () => {
    it.skip(`maps joint positions and joint targets (skipped: ${reason})`, () => {});
  });
} else {
  describe('the LeRobot export of the arm scene', () => {
    it('auto picks the arm: joint positions as the state, the joint targets as the action', {
      timeout: 120_000,
    }, async () => {
      const dir = mkdtempSync(join(tmpdir(), 'telekit-lerobot-arm-'));
      const app = createApp({
        logger: silentLogger,
        plugins: [inProcess(), genesisSim({ scene: { id: 'arm' } }), recorder({ dir })],
      });
      try {
        await app.start();
        const rec = app.resolve(RecorderToken);
        await rec.startEpisode('raise the arm');
        let seq = 0;
        const target = (position: number[]) =>
          app.transport.publish(Topics.joints, {
            header: { seq: seq++, stamp: Date.now(), sender: 'operator' },
            name: ['shoulder', 'elbow'],
            position,
          });
        target([0.4, -0.2]);
        const start = Date.now();
        // Half a second of the first target, then the second until the arm holds it.
        await vi.waitFor(() => expect(Date.now() - start).toBeGreaterThan(500), {
          timeout: 20_000,
          interval: 50,
        });
        target([1, -0.5]);
        // Until the arm holds the second target (however slowly a loaded machine simulates), and
        // at least a second of it.
        // Held means within 0.02 rad of it in every report for half a second: an arm swinging through
        // the target on its way (as a loaded machine's coarse steps make it) has not settled yet.
        let heldSince: number | undefined;
        const watch = app.transport.subscribe(Topics.jointState).subscribe((j) => {
          const [shoulder, elbow] = ['shoulder', 'elbow'].map((n) => j.position[j.name.indexOf(n)] ?? NaN);
          const near = Math.abs(shoulder! - 1) < 0.02 && Math.abs(elbow! + 0.5) < 0.02;
          heldSince = near ? (heldSince ?? Date.now()) : undefined;
        });
        const second = Date.now();
        await vi.waitFor(
          async () => {
            await rec.flush();
            expect(Date.now() - second).toBeGreaterThan(1_000);
            expect(heldSince).toBeDefined();
            expect(Date.now() - heldSince!).toBeGreaterThan(500);
          },
          { timeout: 60_000, interval: 100 },
        );
        watch.unsubscribe();
        await rec.stopEpisode();
        const file = rec.status().file!;
        await app.stop();

        const out = join(dir, 'dataset');
        const result = await exportLeRobot([file], { out, fps: 20 });
        expect(result.state).toEqual(['shoulder.position', 'elbow.position']);
        expect(result.action).toEqual(['shoulder.position', 'elbow.position']);
        expect(result.cameras).toEqual([]);
        const rows = await parquetReadObjects({
          file: await asyncBufferFromFile(join(out, 'data/chunk-000/file-000.parquet')),
        });
        expect(rows).toHaveLength(result.frames);
        const actions = rows.map((r) => r.action as number[]);
        // Until the first target reaches the app (just after the episode's start) each joint's target is
        // its measured position; then the first target, then the second, held to the end.
        const states = rows.map((r) => r['observation.state'] as number[]);
        const firstTarget = actions.findIndex((a) => a[0] === Math.fround(0.4));
        expect(firstTarget).toBeGreaterThanOrEqual(0);
        for (let k = 0; k < firstTarget; k++) expect(actions[k]).toEqual(states[k]);
        expect(actions[firstTarget]).toEqual([Math.fround(0.4), Math.fround(-0.2)]);
        expect(actions.at(-1)).toEqual([1, -0.5]);
        const changes = actions.filter((a, k) => k > firstTarget && a.join() !== actions[k - 1]!.join());
        expect(changes).toEqual([[1, -0.5]]);
        // The arm followed: its last state near the last target.
        const last = rows.at(-1)!['observation.state'] as number[];
        expect(last[0]).toBeCloseTo(1, 1);
        expect(last[1]).toBeCloseTo(-0.5, 1);
        const info = JSON.parse(readFileSync(join(out, 'meta/info.json'), 'utf8'));
        expect(info).toMatchObject({ robot_type: 'telekit-arm', fps: 20, total_episodes: 1 });
      } finally {
        await app.stop();
        rmSync(dir, { recursive: true, force: true });
      }
    });
  });
}
