import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createApp, inProcess, silentLogger, Topics } from '@telekit/core';
import { type Gateway, GatewayToken, gateway, type WireError } from '@telekit/gateway';
import { type GatewayClient, gatewayClient, SOCKETS } from '@telekit/gateway/client';
import Ajv2020 from 'ajv/dist/2020.js';
import { afterAll, expect, it, vi } from 'vitest';
import {
  type CommandFateRecord,
  type EStopRecord,
  type LeaseRecord,
  RecorderToken,
  readRecording,
  recorder,
} from '../src/index.js';
import { kinematicRobot } from './robot.js';

const dir = mkdtempSync(join(tmpdir(), 'telekit-rec-fates-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const twist = (stamp: number) => ({
  header: { seq: 0, stamp, sender: 'page' },
  linear: { x: 0.3, y: 0, z: 0 },
  angular: { x: 0, y: 0, z: 0 },
});

// What the gateway refuses never reaches the app's transport: the recorder has it from the gateway,
// with the lease's and the e-stop's changes. Two operators through a real gateway and real clients.
it('records the gateway refusals with their codes, the lease and the e-stop; each fits its schema', async () => {
  let g!: Gateway;
  const app = createApp({
    logger: silentLogger,
    plugins: [
      inProcess(),
      kinematicRobot(),
      gateway({ auth: async (t) => ({ id: t ?? 'anon', role: 'operator' }), port: 0 }),
      recorder({ dir }),
      {
        name: 'grab',
        requires: [GatewayToken],
        setup(ctx) {
          g = ctx.resolve(GatewayToken);
        },
      },
    ],
  });
  await app.start();
  const clients: GatewayClient[] = [];
  const connect = async (token: string) => {
    const c = gatewayClient({ url: g.url, token });
    clients.push(c);
    await c.connect();
    const faults: WireError[] = [];
    c.faults$.subscribe((f) => faults.push(f));
    return { c, faults };
  };
  const refusedWith = (faults: WireError[], code: string) =>
    vi.waitFor(() => expect(faults.map((f) => f.code)).toContain(code), { timeout: 20_000 });
  try {
    const holder = await connect('alice');
    const other = await connect('bob');
    expect(await holder.c.requestControl()).toMatchObject({ granted: true });

    // Not the holder.
    other.c.publish(Topics.twist, twist(Date.now()));
    await refusedWith(other.faults, 'E_NOT_HOLDER');
    // Stale: stamped a minute ago.
    holder.c.publish(Topics.twist, twist(Date.now() - 60_000));
    await refusedWith(holder.faults, 'E_STALE');
    // Malformed: the client's own checks would stop it, so it goes on the socket as it is.
    const control = (holder.c as unknown as Record<symbol, { control: { emit(...a: unknown[]): void } }>)[
      SOCKETS
    ]!.control;
    control.emit('pub', Topics.twist.name, {
      header: { seq: 1_000, stamp: Date.now(), sender: 'page' },
      linear: { x: 'fast' },
    });
    await refusedWith(holder.faults, 'E_VALIDATION');
    // The e-stop engaged: a twist is refused for it; then cleared.
    let latched = false;
    holder.c.estop$.subscribe((e) => {
      latched = e.latched;
    });
    holder.c.publish(Topics.estop, {
      header: { seq: 0, stamp: Date.now(), sender: 'page' },
      engage: true,
      reason: 'drill',
    });
    await vi.waitFor(() => expect(latched).toBe(true), { timeout: 20_000 });
    holder.c.publish(Topics.twist, twist(Date.now()));
    await refusedWith(holder.faults, 'E_ESTOP');
    holder.c.publish(Topics.estop, { header: { seq: 1, stamp: Date.now(), sender: 'page' }, engage: false });
    await vi.waitFor(() => expect(latched).toBe(false), { timeout: 20_000 });
    await holder.c.releaseControl();

    const rec = app.resolve(RecorderToken);
    await vi.waitFor(
      async () => {
        await rec.flush();
        const n = rec.status().messages;
        expect(n['/recorder/command_fate'] ?? 0).toBeGreaterThanOrEqual(4);
        expect(n['/recorder/lease'] ?? 0).toBeGreaterThanOrEqual(3);
        expect(n['/recorder/estop'] ?? 0).toBeGreaterThanOrEqual(3);
      },
      { timeout: 20_000 },
    );
    const ids = { alice: holder.c.clientId!, bob: other.c.clientId! };
    const file = rec.status().file!;
    for (const c of clients.splice(0)) await c.close();
    await app.stop();

    const recording = await readRecording(file);
    const on = <T>(topic: string) =>
      recording.messages.filter((m) => m.topic === topic).map((m) => m.json as T);
    const fates = on<CommandFateRecord>('/recorder/command_fate');
    const fate = (code: string) => fates.find((f) => f.code === code);
    expect(fate('E_NOT_HOLDER')).toMatchObject({
      fate: 'refused',
      topic: '/controller/twist',
      client: ids.bob,
      via: 'socket.io',
      reason: expect.stringContaining('alice holds control'),
    });
    expect(fate('E_STALE')).toMatchObject({ topic: '/controller/twist', client: ids.alice });
    expect(fate('E_STALE')?.reason).toMatch(/past its deadline/);
    expect(fate('E_VALIDATION')).toMatchObject({ topic: '/controller/twist', client: ids.alice, seq: 1_000 });
    expect(fate('E_ESTOP')).toMatchObject({ topic: '/controller/twist', client: ids.alice });
    // Each refusal carries its command's header as sent.
    for (const f of fates) expect(typeof f.stamp, f.code).toBe('number');
    expect(fates.every((f) => f.fate === 'refused')).toBe(true);

    const alice = { id: ids.alice, name: 'alice', role: 'operator' };
    expect(on<LeaseRecord>('/recorder/lease')).toEqual([
      { event: 'state', holder: null, previous: null },
      { event: 'granted', holder: alice, previous: null },
      { event: 'released', holder: null, previous: alice },
    ]);
    expect(on<EStopRecord>('/recorder/estop')).toMatchObject([
      { event: 'state', latched: false },
      { event: 'engaged', latched: true, by: 'alice', byId: ids.alice, reason: 'drill' },
      { event: 'cleared', latched: false, by: 'alice', byId: ids.alice },
    ]);

    const ajv = new Ajv2020({ strict: false, allErrors: true });
    for (const topic of ['/recorder/command_fate', '/recorder/lease', '/recorder/estop']) {
      const check = ajv.compile(recording.channels.get(topic)!.schema);
      for (const m of on(topic)) expect(check(m), `${topic}: ${ajv.errorsText(check.errors)}`).toBe(true);
      // The schemas say what they require: a message without its fields does not fit.
      expect(check({}), topic).toBe(false);
    }
  } finally {
    for (const c of clients) await c.close();
    await app.stop();
  }
});
