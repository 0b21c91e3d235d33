import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import {
  createApp,
  inProcess,
  type Plugin,
  silentLogger,
  Topics,
  type Transport,
  TransportToken,
} from '@telekit/core';
import { type Gateway, GatewayToken, gateway } from '@telekit/gateway';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { foxglove, schemaOf } from '../src/index.js';
import { foxgloveClient, upgradeStatus, validatorOf } from './foxglove-kit.js';

// The reference comparison: one client script run against the Foxglove SDK's own server (PyPI
// `foxglove-sdk`, in a venv at .cache/telekit/foxglove-sdk or the Python FOXGLOVE_SDK_PYTHON names)
// and against Telekit's endpoint, serving the same channel. It compares, field by field:
// serverInfo (op, the set of fields, capabilities' type and clientPublish, supportedEncodings,
// metadata's and sessionId's types), the advertised channel (the set of fields, topic, encoding,
// schemaName, schemaEncoding, the schema) and a message frame (opcode, the subscription id echoed,
// a nanosecond timestamp near now, a JSON payload that fits the advertised schema, its fields).
const root = fileURLToPath(new URL('../../../', import.meta.url));
const python = process.env.FOXGLOVE_SDK_PYTHON ?? `${root}.cache/telekit/foxglove-sdk/bin/python`;
const present = existsSync(python);
if (!present)
  console.warn(
    `reference comparison skipped: no Python with foxglove-sdk at ${python} (python3 -m venv .cache/telekit/foxglove-sdk && .cache/telekit/foxglove-sdk/bin/pip install foxglove-sdk==0.30.3)`,
  );

/** What one run of the client script sees. */
async function observe(url: string) {
  const c = foxgloveClient(url, 'foxglove.sdk.v1');
  const info = await c.serverInfo;
  const channel = (await c.channels).find((ch) => ch.topic === '/telemetry/pose')!;
  const sub = c.client.subscribe(channel.id);
  await vi.waitFor(() => expect(c.messages.get(sub)?.length ?? 0).toBeGreaterThan(0), { timeout: 20_000 });
  const message = c.messages.get(sub)![0]!;
  c.client.close();
  return { info, channel, sub, message };
}

describe.skipIf(!present)(
  'the same client script against the Foxglove SDK reference server and Telekit',
  () => {
    let reference: ChildProcess;
    let referenceUrl = '';
    let app: ReturnType<typeof createApp>;
    let telekitUrl = '';
    let pose: ReturnType<typeof setInterval>;

    beforeAll(async () => {
      reference = spawn(
        python,
        [fileURLToPath(new URL('./reference/reference_server.py', import.meta.url))],
        {
          stdio: ['pipe', 'pipe', 'inherit'],
        },
      );
      reference.stdin!.write(`${JSON.stringify(schemaOf(Topics.pose))}\n`);
      const port = await new Promise<string>((resolve, reject) => {
        reference.stdout!.once('data', (d: Buffer) => resolve(d.toString().trim()));
        reference.once('exit', (code) => reject(new Error(`the reference server exited with ${code}`)));
      });
      referenceUrl = `ws://127.0.0.1:${port}`;

      let gw: Gateway | undefined;
      let transport: Transport | undefined;
      const grab: Plugin = {
        name: 'grab',
        requires: [GatewayToken, TransportToken],
        setup(ctx) {
          gw = ctx.resolve(GatewayToken);
          transport = ctx.resolve(TransportToken);
        },
      };
      app = createApp({
        logger: silentLogger,
        plugins: [inProcess(), gateway({ auth: 'none', port: 0 }), foxglove(), grab],
      });
      await app.start();
      telekitUrl = `${gw!.url.replace(/^http/, 'ws')}/foxglove`;
      let seq = 0;
      pose = setInterval(
        () =>
          transport!.publish(Topics.pose, {
            header: { seq: seq++, stamp: Date.now(), sender: 'robot' },
            frame: 'world',
            position: { x: seq / 100, y: 0, z: 0 },
            orientation: { x: 0, y: 0, z: 0, w: 1 },
          }),
        20,
      );
    }, 60_000);

    afterAll(async () => {
      clearInterval(pose);
      reference?.stdin?.end();
      if (reference && reference.exitCode === null) {
        const exited = new Promise((r) => reference.once('exit', r));
        setTimeout(() => reference.kill('SIGKILL'), 5_000).unref();
        await exited;
      }
      await app?.stop();
    });

    it('serverInfo, advertise and message frames carry the same fields', { timeout: 60_000 }, async () => {
      const ref = await observe(referenceUrl);
      const ours = await observe(telekitUrl);

      const keys = (o: object) => Object.keys(o).sort();
      expect(keys(ours.info)).toEqual(keys(ref.info));
      expect(ours.info.op).toBe(ref.info.op);
      expect(ref.info.capabilities).toContain('clientPublish');
      expect(ours.info.capabilities).toContain('clientPublish');
      expect(ours.info.supportedEncodings).toEqual(ref.info.supportedEncodings);
      for (const k of ['name', 'sessionId', 'metadata'] as const)
        expect(typeof ours.info[k], k).toBe(typeof ref.info[k]);

      expect(keys(ours.channel)).toEqual(keys(ref.channel));
      for (const k of ['topic', 'encoding', 'schemaName', 'schemaEncoding'] as const)
        expect(ours.channel[k], k).toBe(ref.channel[k]);
      expect(JSON.parse(ours.channel.schema)).toEqual(JSON.parse(ref.channel.schema));

      const check = validatorOf(ref.channel.schema);
      const now = BigInt(Date.now()) * 1_000_000n;
      for (const { message } of [ref, ours]) {
        expect(check(message.json)).toBeUndefined();
        expect(message.timestamp > now - 60_000_000_000n && message.timestamp < now + 60_000_000_000n).toBe(
          true,
        );
      }
      expect(keys(ours.message.json as object)).toEqual(keys(ref.message.json as object));
    });

    it('the reference refuses the old subprotocol name; Telekit accepts both', async () => {
      expect((await upgradeStatus(referenceUrl, ['foxglove.websocket.v1'])).status).toBe(400);
      expect((await upgradeStatus(telekitUrl, ['foxglove.websocket.v1'])).status).toBe(101);
      expect((await upgradeStatus(referenceUrl, ['foxglove.sdk.v1'])).status).toBe(101);
    });
  },
);
