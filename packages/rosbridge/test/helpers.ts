import { inProcessTransport, silentLogger, type Transport } from '@telekit/core';
import { createGateway, type Gateway, type GatewayOptions, jwtVerifier, signToken } from '@telekit/gateway';
import { Ros } from 'roslib';
import { WebSocket } from 'ws';
import { attachRosbridge, type RosbridgeEndpoint, type RosbridgeEndpointOptions } from '../src/index.js';

export const SECRET = 'rosbridge-test-secret-at-least-32-bytes';

export const token = (sub: string, role: 'viewer' | 'operator' | 'admin') =>
  signToken({ sub, role }, { secret: SECRET, expiresIn: '1h' });

/** A real gateway with JWT auth on loopback, an in-process app transport, and the endpoint. */
export async function startEndpoint(
  options: Partial<GatewayOptions> = {},
  endpoint: RosbridgeEndpointOptions = {},
  port = 0,
) {
  const app: Transport = inProcessTransport();
  await app.connect();
  const gateway: Gateway = await createGateway({
    auth: jwtVerifier({ secret: SECRET }),
    logger: silentLogger,
    ...options,
    transport: app,
  });
  const http = await gateway.listen(port);
  const rosbridge: RosbridgeEndpoint = attachRosbridge(gateway, { logger: silentLogger, ...endpoint });
  const base = `${http.replace('http', 'ws')}/rosbridge`;
  const closers: (() => unknown)[] = [];
  return {
    app,
    gateway,
    rosbridge,
    base,
    /** A roslib client, connected. */
    async ros(query = ''): Promise<Ros> {
      const ros = new Ros({});
      closers.push(() => ros.close());
      const open = new Promise<void>((resolve, reject) => {
        ros.once('connection', () => resolve());
        ros.once('error', (e: unknown) => reject(new Error(`roslib could not connect: ${String(e)}`)));
      });
      await ros.connect(`${base}${query}`);
      await open;
      return ros;
    },
    /** A raw WebSocket, open. */
    async raw(query = ''): Promise<WebSocket> {
      const ws = new WebSocket(`${base}${query}`);
      closers.push(() => ws.terminate());
      // Collected from the start: a refusal may come in the same read as the upgrade's answer.
      frames(ws);
      await new Promise<void>((resolve, reject) => {
        ws.once('open', () => resolve());
        ws.once('error', reject);
      });
      return ws;
    },
    async close() {
      for (const c of closers) c();
      rosbridge.close();
      await gateway.close();
      await app.close();
    },
  };
}

/** The frames a raw socket receives, parsed, and a way to wait for one. */
const collectors = new WeakMap<WebSocket, ReturnType<typeof collect>>();

/** The frames a raw socket receives (one collector per socket). */
export function frames(ws: WebSocket) {
  let c = collectors.get(ws);
  if (!c) {
    c = collect(ws);
    collectors.set(ws, c);
  }
  return c;
}

function collect(ws: WebSocket) {
  const got: Record<string, unknown>[] = [];
  const waiters: {
    match: (f: Record<string, unknown>) => boolean;
    resolve: (f: Record<string, unknown>) => void;
  }[] = [];
  ws.on('message', (data, binary) => {
    if (binary) return;
    const f = JSON.parse(String(data)) as Record<string, unknown>;
    got.push(f);
    for (const w of [...waiters])
      if (w.match(f)) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(f);
      }
  });
  return {
    got,
    next(match: (f: Record<string, unknown>) => boolean): Promise<Record<string, unknown>> {
      const had = got.find(match);
      if (had) return Promise.resolve(had);
      return new Promise((resolve) => waiters.push({ match, resolve }));
    },
  };
}
