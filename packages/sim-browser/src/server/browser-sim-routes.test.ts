import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, request, type Server } from 'node:http';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { browserSimRoutes } from './browser-sim-routes.js';

// The routes behind a server that treats them as the gateway does: a route that throws after
// writing its headers leaves the request hanging, so every request here has a deadline, far longer
// than any answer needs: a request that misses it has hung.
const DEADLINE_MS = 10_000;
let server: Server;
let base: { host: string; port: number };
let dir: string;
const policyFile = () => join(dir, 'policy.onnx');

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'telekit-sim-routes-'));
  await writeFile(
    join(dir, 'box.xml'),
    '<mujoco><worldbody><geom type="box" size="1 1 1"/></worldbody></mujoco>',
  );
  const routes = browserSimRoutes({
    scenes: { box: join(dir, 'box.xml'), ghost: join(dir, 'no-such-scene.xml') },
    scene: 'box',
    policy: policyFile(),
  });
  server = createServer((req, res) => {
    routes(req, res)
      .then((handled) => handled || res.writeHead(404).end('no route\n'))
      .catch(() => {
        if (!res.headersSent) res.writeHead(500).end('route failed\n');
      });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = { host: '127.0.0.1', port: (server.address() as { port: number }).port };
});
afterAll(async () => {
  server?.close();
  await rm(dir, { recursive: true, force: true });
});

/** A request with its path sent exactly as written (fetch would resolve `..` before sending). */
function get(
  path: string,
  method = 'GET',
): Promise<{ status: number; body: string; headers: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const req = request({ ...base, path, method, timeout: DEADLINE_MS }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, headers: res.headers }));
    });
    req.on('timeout', () => req.destroy(new Error(`${method} ${path} hung for ${DEADLINE_MS} ms`)));
    req.on('error', reject);
    req.end();
  });
}

/** A request written byte by byte on a socket (for bytes Node's client refuses to send). */
function raw(head: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(base.port, base.host);
    let out = '';
    socket.setTimeout(DEADLINE_MS, () =>
      socket.destroy(new Error(`raw request hung: ${JSON.stringify(head)}`)),
    );
    socket.on('data', (c) => {
      out += c.toString('latin1');
      if (/\r\n\r\n/.test(out)) socket.end();
    });
    socket.on('close', () => resolve(out));
    socket.on('error', reject);
    socket.end(head);
  });
}

describe('browserSimRoutes', { timeout: 3 * DEADLINE_MS }, () => {
  it('a missing ONNX model is a 404 at once, and the model is served once it exists', async () => {
    expect(await get('/sim/policy/waypoint.onnx')).toMatchObject({ status: 404, body: 'not found\n' });
    await writeFile(policyFile(), Buffer.from('onnx-bytes'));
    const ok = await get('/sim/policy/waypoint.onnx');
    expect(ok).toMatchObject({ status: 200, body: 'onnx-bytes' });
    expect(ok.headers['content-length']).toBe('10');
    expect((await get('/sim/policy/waypoint.onnx', 'HEAD')).status).toBe(200);
  });

  it('a missing file of onnxruntime-web is a 404 at once; a present one is served', async () => {
    expect(await get('/sim/ort/ort-wasm-no-such-file.wasm')).toMatchObject({ status: 404 });
    const present = await get('/sim/ort/ort-wasm-simd-threaded.mjs');
    expect(present.status).toBe(200);
    expect(present.headers['content-type']).toBe('text/javascript');
  });

  it('serves the config, the engine and the scene; an unreadable configured scene is a 500 at once', async () => {
    expect(JSON.parse((await get('/sim/config.json')).body)).toEqual({ scene: 'box', mode: 'auto' });
    const wasm = await get('/sim/mujoco.wasm', 'HEAD');
    expect(wasm.status).toBe(200);
    expect(Number(wasm.headers['content-length'])).toBeGreaterThan(1_000_000);
    expect(JSON.parse((await get('/sim/scenes/box.json')).body)).toMatchObject({
      id: 'box',
      main: 'box.xml',
    });
    const ghost = await get('/sim/scenes/ghost.json');
    expect(ghost.status).toBe(500);
    expect(ghost.body).toMatch(/^scene ghost cannot be read: /);
    expect(ghost.body).not.toContain(dir); // no server path in the answer
    expect((await get('/sim/scenes/nope.json')).status).toBe(404);
  });

  it('no path reaches outside the files it serves: .., encoded dots and slashes, absolute paths, NUL', async () => {
    const secret = readFileSync('/etc/passwd', 'utf8').split('\n')[0]!;
    const attempts = [
      '/sim/ort/../../../../../../etc/passwd',
      '/sim/ort/..%2f..%2f..%2f..%2fetc%2fpasswd',
      '/sim/ort/%2e%2e/%2e%2e/%2e%2e/etc/passwd',
      '/sim/ort/%2e%2e%2f%2e%2e%2fpackage.json',
      '/sim/ort//etc/passwd',
      '/sim/ort/ort-wasm/../../../../../etc/passwd.mjs',
      '/sim/ort/ort-wasm%00.wasm',
      '/sim/ort/ort-wasm..%2f..%2fpackage.mjs',
      '/sim/policy/../../../../etc/passwd',
      '/sim/scenes/..%2f..%2f..%2fetc%2fpasswd.json',
      '/sim/scenes/%2e%2e.json',
      '/sim/scenes/../../../etc/passwd.json',
      '/sim/assets/../../../../etc/passwd',
      '/sim/assets/%2e%2e%2f%2e%2e%2fetc%2fpasswd',
      '/etc/passwd',
      '//etc/passwd',
      'http://evil.example/etc/passwd',
    ];
    for (const path of attempts) {
      const r = await get(path);
      expect(r.status, path).toBeGreaterThanOrEqual(400);
      expect(r.body, path).not.toContain(secret);
    }
    // A raw NUL in the target: refused by the HTTP parser, the connection answered and closed.
    for (const target of ['/sim/ort/ort-wasm\0.wasm', '/sim/policy/waypoint.onnx\0']) {
      const answer = await raw(`GET ${target} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`);
      expect(answer, JSON.stringify(target)).toMatch(/^HTTP\/1\.1 4\d\d /);
      expect(answer).not.toContain(secret);
    }
  });

  it('only GET and HEAD', async () => {
    expect((await get('/sim/config.json', 'POST')).body).toBe('no route\n');
    expect((await get('/sim/policy/waypoint.onnx', 'DELETE')).body).toBe('no route\n');
  });
});
