import { builtinTopics, exampleMessages, Topics } from '@telekit/core';
import fc from 'fast-check';
import { io, type Socket } from 'socket.io-client';
import msgpackParser from 'socket.io-msgpack-parser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { WireError } from '../src/client/index.js';
import type { Verifier } from '../src/index.js';
import { startGateway } from './helpers.js';
import { drive, recordingRobot } from './robot.js';

const FRAMES = 10_000;

// The fuzzer is an operator who may not use the e-stop; the observer is an admin holding the lease.
const verify: Verifier = async (token) =>
  token === 'observer' ? { id: 'observer', role: 'admin' } : { id: 'fuzzer', role: 'operator' };
const acl = {
  viewer: { subscribe: [], publish: [] },
  operator: {
    subscribe: ['*'],
    publish: [
      '/controller/twist',
      '/controller/joints',
      '/controller/gamepad',
      '/controller/action',
      '/media/*',
    ],
  },
  admin: { subscribe: ['*'], publish: ['/controller/*', '/media/*'] },
};

let g: Awaited<ReturnType<typeof startGateway>>;
let robot: ReturnType<typeof recordingRobot>;
let observer: ReturnType<typeof g.client>;
const observerFaults: WireError[] = [];
let observerTimer: ReturnType<typeof setInterval>;
let sentByObserver = 0;

beforeAll(async () => {
  g = await startGateway({
    auth: verify,
    acl,
    rateLimit: { commands: { rate: 1e9, burst: 1e9 }, requests: { rate: 1e9, burst: 1e9 } },
    deadmanMs: 60_000,
  });
  robot = recordingRobot(g.app);
  observer = g.client({ token: 'observer', session: 'observer' });
  observer.faults$.subscribe((f) => observerFaults.push(f));
  await observer.connect();
  await observer.requestControl();
  // The observer drives steadily through the whole storm.
  observerTimer = setInterval(() => {
    observer.publish(Topics.twist, drive(0.25));
    sentByObserver++;
  }, 20);
});

afterAll(async () => {
  clearInterval(observerTimer);
  robot.stop();
  await g.close();
});

const rawSocket = (namespace: string): Promise<Socket> =>
  new Promise((resolve, reject) => {
    const s = io(g.url + namespace, {
      transports: ['websocket'],
      parser: msgpackParser,
      forceNew: true,
      reconnection: false,
      auth: { token: 'fuzzer', session: 'fuzzer' },
    });
    s.once('connect', () => resolve(s));
    s.once('connect_error', reject);
  });

// Values that reach deep into the handlers: anything at all, topic names, and valid messages with one
// field replaced by anything.
const topicNames = fc.constantFrom(...builtinTopics.map((t) => t.name), '/nope', '', '/controller/../etc');
const mutated = fc
  .tuple(
    fc.constantFrom(...Object.values(exampleMessages)),
    fc.string({ maxLength: 12 }),
    fc.anything({ maxDepth: 2 }),
  )
  .map(([m, key, value]) => ({ ...(m as object), [key]: value }));
const arg = fc.oneof(
  fc.anything({ maxDepth: 3, maxKeys: 5 }),
  topicNames,
  mutated,
  fc.record({ topic: topicNames, depth: fc.anything() }),
  fc.record({ action: fc.oneof(fc.string(), fc.constantFrom('acquire', 'release', 'takeover')) }),
  fc.record({ t0: fc.anything() }),
);
const frame = fc.tuple(fc.array(arg, { maxLength: 4 }), fc.boolean());

describe('malformed frames', () => {
  for (const [namespace, event] of [
    ['/control', 'pub'],
    ['/control', 'sub'],
    ['/control', 'unsub'],
    ['/control', 'lease'],
    ['/control', 'time'],
    ['/telemetry', 'pub'],
    ['/telemetry', 'sub'],
    ['/control', 'no-such-event'],
  ] as const) {
    it(`${namespace} ${event}: ${FRAMES.toLocaleString('en-US')} random frames, each answered, nothing crashes`, {
      timeout: 120_000,
    }, async () => {
      const socket = await rawSocket(namespace);
      const faults: unknown[] = [];
      socket.on('fault', (f) => faults.push(f));
      const samples = fc.sample(frame, { numRuns: FRAMES, seed: 42 + event.length });
      let answered = 0;
      let unacked = 0;
      for (let i = 0; i < samples.length; i += 500) {
        await Promise.all(
          samples.slice(i, i + 500).map(([args, withAck]) => {
            if (!withAck) {
              unacked++;
              socket.emit(event, ...args);
              return Promise.resolve();
            }
            return new Promise<void>((resolve) => {
              socket.timeout(10_000).emit(event, ...args, (err: Error | null, answer: unknown) => {
                expect(err).toBeNull();
                answered++;
                expectAnswer(event, answer);
                resolve();
              });
            });
          }),
        );
      }
      expect(socket.connected).toBe(true);
      expect(answered + unacked).toBe(FRAMES);
      socket.close();
      // The server is alive and well.
      expect((await fetch(`${g.url}/healthz`)).status).toBe(200);
    });
  }

  it('garbage below socket.io closes only the offending connection', async () => {
    const socket = await rawSocket('/control');
    const closed = new Promise<string>((resolve) => socket.on('disconnect', (reason) => resolve(reason)));
    (socket.io.engine as unknown as { write(data: unknown): void }).write(
      new Uint8Array([0xc1, 0xff, 0x00, 0x13]),
    );
    expect(await closed).toMatch(/transport close|parse error|server disconnect/);
    expect((await fetch(`${g.url}/healthz`)).status).toBe(200);
  });

  it("meanwhile the observer's commands all went through, in order, untouched", async () => {
    const before = sentByObserver;
    await new Promise((r) => setTimeout(r, 200));
    const ours = robot.twists.filter((t) => t.header.sender === 'observer#observer');
    expect(observerFaults).toEqual([]);
    expect(ours.length).toBeGreaterThanOrEqual(before);
    const seqs = ours.map((t) => t.header.seq);
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
    expect(observer.holdsControl).toBe(true);
  });
});

function expectAnswer(event: string, answer: unknown) {
  expect(answer).toBeTypeOf('object');
  const a = answer as Record<string, unknown>;
  if (event === 'lease') {
    expect(typeof a.granted).toBe('boolean');
    if (a.granted === false) expect(['forbidden', 'held', 'invalid', 'rate-limited']).toContain(a.reason);
    return;
  }
  if (event === 'time' && typeof a.t1 === 'number') return;
  if (a.ok === true) return;
  expect(a.ok).toBe(false);
  const error = a.error as WireError;
  expect(error.code).toMatch(/^E_[A-Z_]+$/);
  expect(error.message.length).toBeGreaterThan(5);
}
