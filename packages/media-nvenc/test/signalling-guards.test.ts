import { createApp, MediaSignallingToken, silentLogger } from '@telekit/core';
import type { MediaSignalling } from '@telekit/core/contracts';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createMediaSignalling, createSfu, createWorker, nvencMedia, StreamMonitor } from '../src/index.js';
import { descendants, socketsOf, until } from './processes.js';

// The media plugin's signalling as the gateway calls it (MediaSignalling), against a real worker
// and encoder: what one client may hold, what all may hold, and that what is closed frees its ports.
let app: ReturnType<typeof createApp>;
let media: MediaSignalling;
let rtpCapabilities: unknown;

let appWorker = 0;
/** A worker's sockets, by default the app's. */
const workerSockets = (pid = appWorker) => socketsOf(pid);
/** Viewer transports open in a worker: each has one UDP socket and one TCP listener. */
const listeners = (pid = appWorker) => workerSockets(pid).filter((s) => s.listening).length;
/** The worker closes sockets a moment after Node closes a transport: wait (generously) for it. */
const settlesAt = async (n: number, pid = appWorker) => {
  await until(() => listeners(pid) === n, 10_000);
  return listeners(pid);
};

const transport = (client: string) =>
  media.request(client, '/media/transport', {}) as Promise<{ id: string }>;
const refusal = (p: Promise<unknown>) =>
  p.then(
    () => undefined,
    (error: { code?: string; message: string }) => ({ code: error.code, message: error.message }),
  );

beforeAll(async () => {
  app = createApp({
    logger: silentLogger,
    plugins: [
      nvencMedia({
        limits: { transportsPerClient: 4, consumersPerTransport: 2, transports: 10 },
        // Transports here never connect (no browser): long enough that none closes mid-test.
        connectTimeoutMs: 300_000,
        streams: [
          {
            id: 'cam',
            encoder: 'libx264',
            hls: false,
            profile: { width: 160, height: 120, fps: 10, bitrateKbps: 200, gopSeconds: 1 },
          },
        ],
      }),
    ],
  });
  await app.start();
  media = app.resolve(MediaSignallingToken);
  const workers = descendants(process.pid).filter((p) => p.comm === 'mediasoup-worke'); // comm: 15 chars
  expect(workers).toHaveLength(1); // this file runs in a process of its own
  appWorker = workers[0]!.pid;
  ({ rtpCapabilities } = (await media.request('setup', '/media/join', { stream: 'cam' })) as {
    rtpCapabilities: unknown;
  });
}, 60_000);
afterAll(() => app?.stop());

describe('media limits', () => {
  it('a client holds at most 4 transports, even asking for 10 at once; the 5th is refused naming the limit', async () => {
    const answers = await Promise.all(Array.from({ length: 10 }, () => refusal(transport('greedy'))));
    expect(answers.filter((a) => a === undefined)).toHaveLength(4);
    expect(answers.filter((a) => a !== undefined)).toHaveLength(6);
    expect(answers.find((a) => a !== undefined)).toEqual({
      code: 'E_MEDIA_LIMIT',
      message: 'too many media transports for this client: at most 4 [limit:transportsPerClient][max:4]',
    });
    expect(listeners()).toBe(4);
    // Others are not affected.
    await transport('modest');
    expect(listeners()).toBe(5);
    media.release('greedy');
    media.release('modest');
    expect(await settlesAt(0)).toBe(0);
    await transport('greedy'); // a released client starts afresh
    media.release('greedy');
  });

  it('all clients together hold at most `transports`', async () => {
    for (const c of ['a', 'b']) for (let i = 0; i < 4; i++) await transport(c);
    await transport('c');
    await transport('c');
    expect(await refusal(transport('c'))).toEqual({
      code: 'E_MEDIA_LIMIT',
      message: 'too many media transports on this server: at most 10 [limit:transports][max:10]',
    });
    for (const c of ['a', 'b', 'c']) media.release(c);
    expect(await settlesAt(0)).toBe(0);
  });

  it('a transport carries at most 2 consumers; its consumers go with it', async () => {
    const t = await transport('viewer');
    const consume = () =>
      media.request('viewer', '/media/consume', { transport: t.id, stream: 'cam', rtpCapabilities });
    const answers = await Promise.all([consume(), consume(), refusal(consume())]);
    expect(answers[2]).toMatchObject({
      code: 'E_MEDIA_LIMIT',
      message: expect.stringContaining('[limit:consumersPerTransport]'),
    });
    expect(
      ((await media.request('viewer', '/media/stats', {})) as { streams: { viewers: number }[] }).streams[0]!
        .viewers,
    ).toBe(2);
    media.release('viewer');
    expect(
      ((await media.request('x', '/media/stats', {})) as { streams: { viewers: number }[] }).streams[0]!
        .viewers,
    ).toBe(0);
  });

  it('300 cycles of make-a-transport-and-leave leave no transport and no port behind', {
    timeout: 120_000,
  }, async () => {
    // The last test's transports closed a moment ago: counted once the worker has let them go.
    await settlesAt(0);
    const before = workerSockets().length;
    for (let i = 0; i < 300; i++) {
      const client = `cycler-${i}`;
      await transport(client);
      await transport(client);
      media.release(client);
    }
    expect(await settlesAt(0)).toBe(0);
    await expect.poll(() => workerSockets().length, { timeout: 10_000 }).toBe(before);
    expect(await media.metrics!()).toMatch(/^telekit_media_transports 0$/m);
  });

  it('a client that leaves while its transport is being made does not keep it', async () => {
    const pending = refusal(transport('leaver'));
    media.release('leaver');
    expect(await pending).toMatchObject({
      code: 'E_MEDIA_SIGNALLING',
      message: 'the client left before its transport was ready',
    });
    expect(await settlesAt(0)).toBe(0);
  });

  it('a transport whose ICE never connects is closed after connectTimeoutMs, freeing its slot and its ports', {
    timeout: 60_000,
  }, async () => {
    // An SFU of its own with a short timeout, and signalling over it with no streams.
    const worker = await createWorker();
    const sfu = await createSfu({ worker, connectTimeoutMs: 1_500 });
    const monitor = new StreamMonitor();
    const idle = createMediaSignalling({
      sfu,
      monitor,
      streams: [],
      hlsDirs: new Map(),
      registry: monitor.registry,
      logger: silentLogger,
      limits: { transportsPerClient: 2 },
    });
    try {
      await idle.request('idle', '/media/transport', {});
      await idle.request('idle', '/media/transport', {});
      expect(await refusal(idle.request('idle', '/media/transport', {}))).toMatchObject({
        code: 'E_MEDIA_LIMIT',
      });
      expect(listeners(worker.pid)).toBe(2);
      // 1.5 s on a quiet machine; the bound is only there so that a broken timer fails the test.
      expect(await until(() => listeners(worker.pid) === 0, 30_000)).toBe(true);
      expect(sfu.transportCount).toBe(0);
      await idle.request('idle', '/media/transport', {}); // the slots are free again
      idle.release('idle');
    } finally {
      monitor.close();
      worker.close();
    }
  });
});

describe('media requests', () => {
  const ask = (topic: unknown, body: unknown, client: unknown = 'asker') =>
    refusal(media.request(client as string, topic as string, body));

  it('every body is validated before use; a bad one is refused naming the field', async () => {
    const t = await transport('asker');
    const cases: [string, unknown, string][] = [
      ['/media/join', { stream: 7 }, 'invalid message: stream: expected string, received number'],
      ['/media/join', 'cam', 'invalid message: (root): expected object, received string'],
      ['/media/join', [], 'invalid message: (root): expected object, received array'],
      ['/media/connect', { transport: t.id }, 'invalid message: dtlsParameters'],
      ['/media/connect', { transport: t.id, dtlsParameters: [] }, 'invalid message: dtlsParameters'],
      ['/media/consume', { transport: t.id, stream: 'cam' }, 'invalid message: rtpCapabilities'],
      [
        '/media/consume',
        { transport: 'x'.repeat(10_000), stream: 'cam', rtpCapabilities: {} },
        'invalid message: transport',
      ],
      ['/media/resume', { consumer: null }, 'invalid message: consumer'],
      ['/media/resume', null, 'invalid message: consumer'],
    ];
    for (const [topic, body, message] of cases)
      expect(await ask(topic, body), `${topic} ${JSON.stringify(body)?.slice(0, 40)}`).toMatchObject({
        code: 'E_VALIDATION',
        message: expect.stringContaining(message),
      });
    // Valid by the schema, refused by the SFU: the answer still names the field.
    expect(
      await ask('/media/connect', { transport: t.id, dtlsParameters: { role: 'client' } }),
    ).toMatchObject({
      code: 'E_MEDIA_SIGNALLING',
      message: expect.stringMatching(/^invalid dtlsParameters: .*\[field:dtlsParameters\]$/),
    });
    expect(
      await ask('/media/consume', { transport: t.id, stream: 'cam', rtpCapabilities: { codecs: 'h264' } }),
    ).toMatchObject({
      code: 'E_MEDIA_SIGNALLING',
      message: expect.stringContaining('[field:rtpCapabilities]'),
    });
    expect(await ask('/media/resume', { consumer: 'nope' })).toMatchObject({
      message: 'unknown consumer [consumer:nope]',
    });
    media.release('asker');
  });

  it('nothing throws synchronously: unknown topics, odd clients and hostile bodies all reject', async () => {
    const hostile = new Proxy(
      {},
      {
        get: () => {
          throw new Error('boom');
        },
        ownKeys: () => {
          throw new Error('boom');
        },
      },
    );
    const getter = Object.defineProperty({}, 'stream', {
      enumerable: true,
      get: () => {
        throw new Error('boom');
      },
    });
    const calls: [unknown, unknown, unknown][] = [
      [42, {}, 'a'],
      [{ toString: () => '/media/join' }, {}, 'a'],
      ['/media/teleport', {}, 'a'],
      ['__proto__', {}, 'a'],
      ['/media/streams', {}, undefined],
      ['/media/streams', {}, { id: 'a' }],
      ['/media/join', hostile, 'a'],
      ['/media/join', getter, 'a'],
    ];
    for (const [topic, body, client] of calls) {
      let answer: Promise<unknown> | undefined;
      expect(() => {
        answer = media.request(client as string, topic as string, body);
      }).not.toThrow();
      expect(await refusal(answer!), String(topic)).toMatchObject({ code: expect.stringMatching(/^E_/) });
    }
    expect(await ask('/media/teleport', {})).toMatchObject({
      message: expect.stringContaining('unknown media request /media/teleport; known: /media/streams'),
    });
    expect(() => media.release('nobody')).not.toThrow();
    expect(() => media.release(undefined as unknown as string)).not.toThrow();
  });

  it('/metrics carries no transport or consumer id, no address and no token', {
    timeout: 30_000,
  }, async () => {
    const t = await transport('watcher');
    const c = (await media.request('watcher', '/media/consume', {
      transport: t.id,
      stream: 'cam',
      rtpCapabilities,
    })) as {
      id: string;
    };
    // Once the monitor has sampled the viewer's figures (which were exported per consumer before).
    await vi.waitFor(
      async () =>
        expect(
          ((await media.request('watcher', '/media/stats', {})) as { viewers: unknown[] }).viewers,
        ).toHaveLength(1),
      { timeout: 15_000, interval: 200 },
    );
    const text = await media.metrics!();
    expect(text).toContain('telekit_media_viewer_rtt_max_ms{stream="cam"}');
    expect(text).toContain('telekit_media_transports 1');
    expect(text).not.toContain(t.id);
    expect(text).not.toContain(c.id);
    expect(text).not.toMatch(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/i); // no id of any kind
    expect(text).not.toMatch(/\b\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}\b/); // no IPv4 address
    expect(text).not.toMatch(/token|secret|Bearer|ey[A-Za-z0-9_-]{10,}\./i);
    media.release('watcher');
  });
});
