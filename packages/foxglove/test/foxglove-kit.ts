import { readdirSync, readFileSync } from 'node:fs';
import { FoxgloveClient } from '@foxglove/ws-protocol';
import { probeH264 } from '@telekit/testkit/media';
import Ajv2020 from 'ajv/dist/2020.js';
import { WebSocket } from 'ws';

/** What one client heard. */
export interface Heard {
  client: FoxgloveClient;
  ws: WebSocket;
  serverInfo: Promise<Record<string, unknown>>;
  channels: Promise<
    {
      id: number;
      topic: string;
      encoding: string;
      schemaName: string;
      schema: string;
      schemaEncoding?: string;
    }[]
  >;
  statuses: { level: number; message: string }[];
  /** Messages by subscription id: decoded JSON and the timestamp (ns). */
  messages: Map<number, { json: unknown; timestamp: bigint }[]>;
  times: bigint[];
  closed: Promise<void>;
}

/** Opens `@foxglove/ws-protocol`'s own client on `url`, offering `subprotocol`. */
export function foxgloveClient(url: string, subprotocol: string): Heard {
  const ws = new WebSocket(url, [subprotocol]);
  const client = new FoxgloveClient({ ws: ws as never });
  const statuses: Heard['statuses'] = [];
  const messages: Heard['messages'] = new Map();
  const times: bigint[] = [];
  const decoder = new TextDecoder();
  client.on('status', (s) => statuses.push({ level: s.level, message: s.message }));
  client.on('message', (m) => {
    const list = messages.get(m.subscriptionId) ?? [];
    list.push({ json: JSON.parse(decoder.decode(m.data)), timestamp: m.timestamp });
    messages.set(m.subscriptionId, list);
  });
  client.on('time', (t) => times.push(t.timestamp));
  client.on('error', () => undefined);
  return {
    client,
    ws,
    statuses,
    messages,
    times,
    serverInfo: new Promise((resolve) => client.on('serverInfo', (i) => resolve(i as never))),
    channels: new Promise((resolve) => client.on('advertise', (c) => resolve(c as never))),
    closed: new Promise((resolve) => ws.once('close', () => resolve())),
  };
}

/** The HTTP status a WebSocket upgrade is answered with (101 when it is accepted). */
export function upgradeStatus(url: string, protocols: string[]): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, protocols);
    ws.once('open', () => {
      ws.close();
      resolve({ status: 101, body: '' });
    });
    ws.once('unexpected-response', (_req, res) => {
      let body = '';
      res.on('data', (d: Buffer) => {
        body += d.toString();
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    ws.once('error', (e) => {
      if (!/Unexpected server response/.test(e.message)) reject(e);
    });
  });
}

/** A standard validator (Ajv, JSON Schema 2020-12) of a channel's advertised schema. */
export function validatorOf(schema: string): (value: unknown) => string | undefined {
  const ajv = new Ajv2020({ strict: false, allErrors: true });
  const check = ajv.compile(JSON.parse(schema) as object);
  return (value) => (check(value) ? undefined : ajv.errorsText(check.errors));
}

/** The command names of this process's live descendants (from /proc), e.g. to count encoders. */
export function descendantNames(root = process.pid): string[] {
  const kids = new Map<number, { pid: number; comm: string }[]>();
  for (const entry of readdirSync('/proc')) {
    const pid = Number(entry);
    if (!Number.isInteger(pid)) continue;
    try {
      const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const close = text.lastIndexOf(')');
      const [state, ppid] = text.slice(close + 2).split(' ');
      if (state === 'Z') continue;
      const list = kids.get(Number(ppid)) ?? [];
      list.push({ pid, comm: text.slice(text.indexOf('(') + 1, close) });
      kids.set(Number(ppid), list);
    } catch {
      // gone
    }
  }
  const out: string[] = [];
  const walk = (pid: number) => {
    for (const k of kids.get(pid) ?? []) {
      out.push(k.comm);
      walk(k.pid);
    }
  };
  walk(root);
  return out;
}

export { probeH264 };
