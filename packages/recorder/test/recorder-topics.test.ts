import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createApp, defineTopic, inProcess, silentLogger } from '@telekit/core';
import { message } from '@telekit/core/schemas';
import { type Gateway, GatewayToken, gateway } from '@telekit/gateway';
import { type GatewayClient, gatewayClient } from '@telekit/gateway/client';
import { afterAll, expect, it, vi } from 'vitest';
import * as z from 'zod';
import {
  EpisodeTask,
  type RecorderStatusMessage,
  RecorderToken,
  RecorderTopics,
  readRecording,
  recorder,
} from '../src/index.js';
import { kinematicRobot } from './robot.js';

const dir = mkdtempSync(join(tmpdir(), 'telekit-rec-topics-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** An app with a robot, a gateway (token `op`: an operator; others: viewers) and the recorder. */
async function startApp() {
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
  return { app, g };
}

// The page's recorder widget speaks these topics through a real gateway: an operator starts and
// stops an episode and reads the status; a viewer reads the status but is refused the request.
it('an operator starts and stops episodes over the gateway; a viewer only watches', async () => {
  const { app, g } = await startApp();
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

// A task is one line shown to every viewer and written into the recording and the dataset: control
// characters, separators and bidi controls are refused at every door with the field named.
const BAD_TASKS = [
  'pick\tthe cube',
  'pick\nthe cube',
  'pick\rthe cube',
  'nul\u0000',
  'bell\u0007',
  'del\u007f',
  'c1\u0085',
  'csi\u009b[2J',
  'line\u2028sep',
  'para\u2029sep',
  'rlo\u202ekcip',
  'lre\u202a',
  'rli\u2067x\u2069',
  'lone \ud800 surrogate',
];

it('a task with control characters is refused at every door with E_VALIDATION naming task', async () => {
  for (const task of BAD_TASKS) expect(EpisodeTask.safeParse(task).success, JSON.stringify(task)).toBe(false);
  for (const task of ['pick the red cube', 'prendre le cube rouge — vite ✓', '把红色方块放进盒子 🤖', ''])
    expect(EpisodeTask.safeParse(task).success, task).toBe(true);

  const { app, g } = await startApp();
  // A client that does not check what it sends: the gateway is the one that must.
  const lax = defineTopic({
    ...RecorderTopics.request,
    schema: message({ action: z.enum(['start', 'stop']), task: z.string().optional() }),
  });
  const c = gatewayClient({ url: g.url, token: 'op', topics: [lax, RecorderTopics.status] });
  try {
    await c.connect();
    const faults: { code: string; message: string; topic?: string; field?: string }[] = [];
    c.faults$.subscribe((f) => faults.push(f));
    const statuses: RecorderStatusMessage[] = [];
    c.subscribe(RecorderTopics.status).subscribe((s) => statuses.push(s));
    // An unpaired surrogate cannot cross the wire (UTF-8 makes it U+FFFD): the API door has it below.
    const sent = BAD_TASKS.filter((t) => !t.includes('\ud800'));
    for (const [seq, task] of sent.entries())
      c.publish(lax, { header: { seq, stamp: Date.now(), sender: 'page' }, action: 'start', task });
    await vi.waitFor(() => expect(faults.length).toBe(sent.length), { timeout: 20_000 });
    for (const f of faults)
      expect(f).toMatchObject({
        code: 'E_VALIDATION',
        topic: '/recorder/request',
        field: 'task',
        message: expect.stringMatching(/task: expected one line of text without control characters/),
      });
    // The gateway never passed them on: no episode was started.
    const rec = app.resolve(RecorderToken);
    expect(rec.status().episode).toBeUndefined();
    // Through the recorder's API, the same rule and the same field.
    for (const task of BAD_TASKS)
      await expect(rec.startEpisode(task)).rejects.toMatchObject({
        code: 'E_VALIDATION',
        context: { field: 'task' },
        message: expect.stringMatching(/^task: expected one line of text without control characters/),
      });
    await expect(rec.startEpisode('x'.repeat(1_001))).rejects.toMatchObject({
      code: 'E_VALIDATION',
      message: expect.stringMatching(/^task: expected string to have <=1000 characters/),
    });
    expect(rec.status().episode).toBeUndefined();
    // A clean task in any script still starts one.
    c.publish(lax, {
      header: { seq: BAD_TASKS.length, stamp: Date.now(), sender: 'page' },
      action: 'start',
      task: 'prendre le cube rouge — vite ✓',
    });
    await vi.waitFor(() => expect(statuses.at(-1)?.episode?.task).toBe('prendre le cube rouge — vite ✓'), {
      timeout: 20_000,
    });
  } finally {
    await c.close();
    await app.stop();
  }
});
