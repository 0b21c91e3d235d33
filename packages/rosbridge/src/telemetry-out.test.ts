import { EventEmitter } from 'node:events';
import type { GatewayPeer } from '@telekit/gateway';
import type { RosMapping } from '@telekit/transport-ros';
import { Subject } from 'rxjs';
import { describe, expect, it } from 'vitest';
import type { WebSocket } from 'ws';
import type { EndpointHub } from './endpoint-hub.js';
import { TelemetryOut } from './telemetry-out.js';

/** A socket that records what it was sent, with a net socket that can say 'drain'. */
function rig() {
  const net = new EventEmitter();
  const sent: string[] = [];
  const ws = {
    readyState: 1,
    bufferedAmount: 0,
    _socket: net,
    send: (bytes: Uint8Array) => sent.push(Buffer.from(bytes).toString()),
  };
  const metrics = { sent: 0, dropped: 0 };
  const hub = {
    clock: { now: () => 0 },
    metrics,
    encode: (m: object) => ({ bytes: Buffer.from(JSON.stringify(m)), binary: false }),
  };
  const feed = new Subject<unknown>();
  const peer = { subscribe: () => ({ ok: true, feed }) } as unknown as GatewayPeer;
  const line = { topic: { name: '/telemetry/battery' }, toRos: (m: unknown) => m } as unknown as RosMapping;
  const out = new TelemetryOut(ws as unknown as WebSocket, hub as unknown as EndpointHub);
  return { ws, net, sent, metrics, feed, peer, line, out };
}

const tick = () => new Promise<void>((r) => queueMicrotask(r));

describe('TelemetryOut', () => {
  it('keeps the newest queue_length samples per subscription and counts what it dropped', async () => {
    const r = rig();
    r.out.subscribe(r.peer, '/battery', r.line, 'a', 2, 0, false);
    for (let n = 1; n <= 5; n++) r.feed.next({ n });
    await tick();
    expect(r.sent).toEqual(['{"n":4}', '{"n":5}']);
    expect(r.metrics).toEqual({ sent: 2, dropped: 3 });
    expect(r.out.outgoing.get('/battery')?.dropped).toBe(3);
  });

  it('waits while the socket holds too much unsent, and writes once it has drained', async () => {
    const r = rig();
    r.out.subscribe(r.peer, '/battery', r.line, 'a', 1, 0, false);
    r.ws.bufferedAmount = 1 << 20;
    r.feed.next({ n: 1 });
    await tick();
    expect(r.sent).toEqual([]);
    r.ws.bufferedAmount = 0;
    // The socket's 'drain', or the 20 ms timer when it does not come.
    await new Promise((res) => setTimeout(res, 30));
    expect(r.sent).toEqual(['{"n":1}']);
  });

  it('writes nothing once closed, and lets go of its feeds', async () => {
    const r = rig();
    r.out.subscribe(r.peer, '/battery', r.line, 'a', 1, 0, false);
    r.out.close();
    r.feed.next({ n: 1 });
    r.net.emit('drain');
    await tick();
    expect(r.sent).toEqual([]);
    expect(r.feed.observed).toBe(false);
    expect(r.out.outgoing.size).toBe(0);
  });

  it('ends a subscription with its last id; another id only adds a subscriber', () => {
    const r = rig();
    r.out.subscribe(r.peer, '/battery', r.line, 'a', 1, 0, false);
    r.out.subscribe(r.peer, 'battery', r.line, 'b', 1, 0, false);
    expect([...r.out.outgoing.get('/battery')!.ids]).toEqual(['a', 'b']);
    r.out.unsubscribe('/battery', 'a');
    expect(r.out.outgoing.has('/battery')).toBe(true);
    r.out.unsubscribe('/battery', 'b');
    expect(r.out.outgoing.has('/battery')).toBe(false);
    expect(r.feed.observed).toBe(false);
  });
});
