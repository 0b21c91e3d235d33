/**
 * roslibpy 2.x (from the project's Python environment, `.venv`) as an unmodified client of the
 * endpoint. Skipped, saying why, where `.venv` has no roslibpy (`scripts/setup.sh` installs it).
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { Topics } from '@telekit/core';
import { missingRequirement } from '@telekit/testkit';
import { firstValueFrom, take } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { startEndpoint, token } from '../test/helpers.js';

const python = fileURLToPath(new URL('../../../.venv/bin/python', import.meta.url));
const has =
  existsSync(python) && spawnSync(python, ['-c', 'import roslibpy'], { stdio: 'ignore' }).status === 0;
const reason = missingRequirement([
  { ok: has, need: `roslibpy in ${python} (scripts/setup.sh installs it)` },
]);

if (reason) {
  describe(`roslibpy against the endpoint (skipped: ${reason})`, () => {
    it.skip(`publish, rosapi, a failing call, a subscription (skipped: ${reason})`, () => {});
  });
} else {
  describe('roslibpy 2.x against the endpoint', () => {
    it('publishes /cmd_vel to the robot, lists topics, hears a failing call fail, gets /odom', async () => {
      const env = await startEndpoint();
      const script = fileURLToPath(new URL('./roslibpy_client.py', import.meta.url));
      const twist = firstValueFrom(env.app.subscribe(Topics.twist).pipe(take(1)));
      const child = spawn(python, [script, `${env.base}?token=${await token('py', 'operator')}`], {
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      const said: Record<string, unknown> = {};
      let publishing: NodeJS.Timeout | undefined;
      try {
        for await (const line of createInterface({ input: child.stdout })) {
          Object.assign(said, JSON.parse(line));
          if (said.ready && !publishing)
            publishing = setInterval(
              () =>
                env.app.publish(Topics.pose, {
                  header: { seq: 0, stamp: Date.now(), sender: 'robot' },
                  frame: 'odom',
                  position: { x: 5, y: 0, z: 0 },
                  orientation: { x: 0, y: 0, z: 0, w: 1 },
                }),
              20,
            );
          if ('odom' in said) break;
        }
        expect((await twist).linear.x).toBe(0.7);
        expect(said.topics).toContain('/cmd_vel');
        expect(String(said.failed)).toMatch(/no service \/no\/such\/service/);
        expect(said.odom).toBe(5);
      } finally {
        clearInterval(publishing);
        child.kill();
        await env.close();
      }
    });
  });
}
