import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createApp, inProcess, type Pose, silentLogger, Topics } from '@telekit/core';
import { gatewayClient } from '@telekit/gateway/client';
import { afterAll, expect, it, vi } from 'vitest';
import { startReplayServer } from '../src/cli.js';
import { RecorderToken, recorder } from '../src/index.js';
import { kinematicRobot } from './robot.js';

const dir = mkdtempSync(join(tmpdir(), 'telekit-replay-server-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// `telekit replay`'s server: a recording of the kinematic robot, served by a real gateway to the
// gateway's own client, which watches the poses arrive and is refused a command and the lease.
it('serves a recording through a gateway, read-only', { timeout: 60_000 }, async () => {
  const rec = createApp({
    logger: silentLogger,
    plugins: [inProcess(), kinematicRobot(), recorder({ dir })],
  });
  await rec.start();
  await vi.waitFor(
    () => expect(rec.resolve(RecorderToken).status().messages['/telemetry/pose'] ?? 0).toBeGreaterThan(50),
    {
      timeout: 20_000,
    },
  );
  const file = rec.resolve(RecorderToken).status().file!;
  await rec.stop();

  const { app, url } = await startReplayServer({ file, speed: 0.5 }, []);
  const client = gatewayClient({ url });
  try {
    await client.connect();
    const poses: Pose[] = [];
    client.subscribe(Topics.pose).subscribe((p) => poses.push(p));
    await vi.waitFor(() => expect(poses.length).toBeGreaterThan(3), { timeout: 20_000 });
    const faults: string[] = [];
    client.faults$.subscribe((f) => faults.push(f.code));
    client.publish(Topics.twist, {
      header: { seq: 0, stamp: Date.now(), sender: 'page' },
      linear: { x: 1, y: 0, z: 0 },
      angular: { x: 0, y: 0, z: 0 },
    });
    await vi.waitFor(() => expect(faults).toContain('E_FORBIDDEN'), { timeout: 20_000 });
    expect(await client.requestControl()).toMatchObject({ granted: false });
  } finally {
    await client.close();
    await app.stop();
  }
});
