import {
  createApp,
  inProcess,
  type Pose,
  SimulatorToken,
  silentLogger,
  Topics,
  type Transport,
  TransportToken,
} from '@telekit/core';
import { exampleMessages } from '@telekit/core/schemas';
import { describeMediaSource } from '@telekit/testkit';
import { filter, firstValueFrom, timeout } from 'rxjs';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { cameraSource, genesisSim, type SidecarSimulator, sidecarSimulator } from '../src/index.js';

const stamp = () => performance.timeOrigin + performance.now();
let seq = 0;
const header = () => ({ seq: seq++, stamp: stamp(), sender: 'operator' });

describe('genesisSim plugin on the wheeled robot', () => {
  let app: ReturnType<typeof createApp>;
  let transport: Transport;
  beforeAll(async () => {
    app = createApp({
      logger: silentLogger,
      plugins: [inProcess(), genesisSim({ scene: { id: 'diff-drive' }, rates: { pose: 50, simState: 10 } })],
    });
    await app.start();
    transport = app.transport;
  }, 30_000);
  afterAll(() => app.stop());

  const pose = () => firstValueFrom(transport.subscribe(Topics.pose).pipe(timeout(5_000)));

  it('publishes pose, IMU and sim state telemetry while running in real time', async () => {
    const p = await pose();
    expect(p.frame).toBe('world');
    const imu = await firstValueFrom(transport.subscribe(Topics.imu).pipe(timeout(5_000)));
    expect(imu.linearAcceleration.z).toBeGreaterThan(5); // gravity, seen by the accelerometer
    const sim = await firstValueFrom(
      transport.subscribe(Topics.simState).pipe(
        filter((s) => s.time > 0.5),
        timeout(5_000),
      ),
    );
    expect(sim.scene).toBe('diff-drive');
    expect(sim.realtimeFactor).toBeGreaterThan(0.5);
    expect(app.resolve(SimulatorToken).capabilities.base).toBe(true);
  });

  it('twist drives the base forward and reports actuation; e-stop freezes it; reset brings it back', async () => {
    const start = await pose();
    const reports: number[] = [];
    const fates = new Map<number, string[]>();
    const sent: number[] = [];
    const sub = transport.subscribe(Topics.actuation).subscribe((a) => {
      if (a.command.sender !== 'operator' || a.command.topic !== '/controller/twist') return;
      fates.set(a.command.seq, [...(fates.get(a.command.seq) ?? []), a.fate]);
      if (a.fate === 'applied') reports.push(a.actuatedAt - a.command.stamp);
    });
    const drive = setInterval(() => {
      const h = header();
      sent.push(h.seq);
      transport.publish(Topics.twist, {
        header: h,
        linear: { x: 0.5, y: 0, z: 0 },
        angular: { x: 0, y: 0, z: 0 },
      });
    }, 50);
    await vi.waitFor(async () => expect((await pose()).position.x - start.position.x).toBeGreaterThan(0.3), {
      timeout: 5_000,
      interval: 100,
    });
    transport.publish(Topics.estop, { header: header(), engage: true, reason: 'test' });
    await new Promise((r) => setTimeout(r, 500));
    const a = await pose();
    await new Promise((r) => setTimeout(r, 300));
    const b = await pose();
    clearInterval(drive);
    expect(Math.hypot(b.position.x - a.position.x, b.position.y - a.position.y)).toBeLessThan(0.02);
    expect(reports.length).toBeGreaterThan(3);
    expect(reports.every((ms) => ms >= 0 && ms < 1_000)).toBe(true);
    // Every twist got exactly one report: applied while driving, e-stopped once the latch engaged.
    await vi.waitFor(() => expect(sent.every((seq) => fates.has(seq))).toBe(true), { timeout: 5_000 });
    expect(sent.every((seq) => fates.get(seq)!.length === 1)).toBe(true);
    const seen = new Set(sent.map((seq) => fates.get(seq)![0]));
    expect(seen.has('applied')).toBe(true);
    expect(seen.has('estop')).toBe(true);
    transport.publish(Topics.estop, { header: header(), engage: false });
    transport.publish(Topics.action, { header: header(), action: 'reset' });
    await vi.waitFor(async () => expect(Math.abs((await pose()).position.x)).toBeLessThan(0.05), {
      timeout: 5_000,
      interval: 100,
    });
    sub.unsubscribe();
  });

  it('reports health with the engine and restarts', async () => {
    const h = await app.health();
    expect(h.plugins['@telekit/sim-genesis']).toMatchObject({
      status: 'ok',
      data: { backend: 'mujoco', engine: 'mujoco 3.14.0', restarts: 0 },
    });
  });
});

describe('genesisSim plugin on the arm', () => {
  it('joint commands move the joints; joint state is published', async () => {
    const app = createApp({
      logger: silentLogger,
      plugins: [inProcess(), genesisSim({ scene: { id: 'arm' } })],
    });
    await app.start();
    try {
      const t = app.resolve(TransportToken);
      t.publish(Topics.joints, {
        ...exampleMessages.joints,
        header: header(),
        name: ['shoulder', 'elbow'],
        position: [1, -0.5],
      });
      await vi.waitFor(
        async () => {
          const js = await firstValueFrom(t.subscribe(Topics.jointState).pipe(timeout(2_000)));
          expect(js.name).toEqual(['shoulder', 'elbow']);
          expect(js.position[0]).toBeCloseTo(1, 1);
          expect(js.position[1]).toBeCloseTo(-0.5, 1);
        },
        { timeout: 8_000, interval: 200 },
      );
    } finally {
      await app.stop();
    }
  });
});

let shared: SidecarSimulator | undefined;
describeMediaSource(
  'simulator camera',
  async () => {
    shared = sidecarSimulator({ logger: silentLogger });
    await shared.loadScene({ id: 'diff-drive' });
    await shared.run({ stateHz: 10 });
    const source = cameraSource(shared, 'sim-camera', {
      width: 160,
      height: 120,
      fps: 20,
      camera: 'overview',
    });
    const close = source.close;
    return {
      ...source,
      close: async () => {
        await close();
        await shared?.close();
      },
    };
  },
  { timeoutMs: 20_000, frames: 3 },
);
void (0 as unknown as Pose);
