import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createApp, inProcess, silentLogger } from '@telekit/core';
import { type Gateway, GatewayToken, gateway } from '@telekit/gateway';
import { type GatewayClient, gatewayClient } from '@telekit/gateway/client';
import { afterAll, expect, it, vi } from 'vitest';
import {
  type RecorderStatusMessage,
  RecorderToken,
  RecorderTopics,
  readRecording,
  recorder,
} from '../src/index.js';
import { kinematicRobot } from './robot.js';

const dir = mkdtempSync(join(tmpdir(), 'telekit-rec-topics-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// The page's recorder widget speaks these topics through a real gateway: an operator starts and
// stops an episode and reads the status; a viewer reads the status but is refused the request.
it('an operator starts and stops episodes over the gateway; a viewer only watches', async () => {
  let g!: Gateway;
  const app = createApp({
    logger: silentLogger,
    plugins: [
      inProcess(),
      kinematicRobot(),
      gateway({
        auth: async (t) => ({ id: t ?? 'anon', role: t === 'op' ? 'operator' : 'viewer' }),
        port: 0,
      }),
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
    const c = gatewayClient({ url: g.url, token, topics: Object.values(RecorderTopics) });
    clients.push(c);
    await c.connect();
    const statuses: RecorderStatusMessage[] = [];
    const faults: { code: string; topic?: string }[] = [];
    c.subscribe(RecorderTopics.status).subscribe((s) => statuses.push(s));
    c.faults$.subscribe((f) => faults.push(f));
    return { c, statuses, faults };
  };
  try {
    const op = await connect('op');
    const viewer = await connect('viewer');
    await vi.waitFor(() => expect(op.statuses.length).toBeGreaterThan(0), { timeout: 20_000 });
    expect(op.statuses.at(-1)).toMatchObject({ episodes: 0, dropped: 0 });
    expect(op.statuses.at(-1)?.file).toMatch(/^telekit-.*\.mcap$/);

    op.c.publish(RecorderTopics.request, {
      header: { seq: 0, stamp: Date.now(), sender: 'page' },
      action: 'start',
      task: 'drive to the red cube',
    });
    await vi.waitFor(() => expect(op.statuses.at(-1)?.episode?.task).toBe('drive to the red cube'), {
      timeout: 20_000,
    });
    expect(op.statuses.at(-1)?.answer).toMatchObject({ seq: 0, ok: true });
    // The viewer sees it, and may not stop it.
    await vi.waitFor(() => expect(viewer.statuses.at(-1)?.episode?.index).toBe(0), { timeout: 20_000 });
    viewer.c.publish(RecorderTopics.request, {
      header: { seq: 0, stamp: Date.now(), sender: 'page' },
      action: 'stop',
    });
    await vi.waitFor(
      () => expect(viewer.faults).toContainEqual(expect.objectContaining({ code: 'E_FORBIDDEN' })),
      { timeout: 20_000 },
    );
    expect(app.resolve(RecorderToken).status().episode?.index).toBe(0);

    op.c.publish(RecorderTopics.request, {
      header: { seq: 1, stamp: Date.now(), sender: 'page' },
      action: 'stop',
    });
    await vi.waitFor(() => expect(op.statuses.at(-1)?.answer).toMatchObject({ seq: 1, ok: true }), {
      timeout: 20_000,
    });
    expect(op.statuses.at(-1)).toMatchObject({ episodes: 1 });
    expect(op.statuses.at(-1)?.episode).toBeUndefined();
    const file = app.resolve(RecorderToken).status().file!;
    for (const c of clients.splice(0)) await c.close();
    await app.stop();
    // The file has the episode and who asked for it.
    const recording = await readRecording(file);
    expect(
      recording.messages.filter((m) => m.topic === '/recorder/episode').map((m) => m.json),
    ).toMatchObject([
      { event: 'start', task: 'drive to the red cube' },
      { event: 'stop', task: 'drive to the red cube' },
    ]);
    expect(
      recording.messages
        .filter((m) => m.topic === '/recorder/request')
        .map((m) => (m.json as { action: string }).action),
    ).toEqual(['start', 'stop']);
  } finally {
    for (const c of clients) await c.close();
    await app.stop();
  }
});
