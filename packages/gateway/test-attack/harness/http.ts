/**
 * HTTP by hand over `net`: request lines and headers exactly as written (no normalisation of `..`
 * or `%2e` by a client library), and connections that dribble or say nothing.
 *
 * @module
 */
import { connect, type Socket } from 'node:net';
import type { Target } from './target.js';

/** What came back on a raw connection. */
export interface RawResponse {
  /** The status code, or undefined if the server closed without a status line. */
  status: number | undefined;
  /** Everything the server sent, as text. */
  text: string;
}

/** Sends `request` as is and reads until the server closes or `timeoutMs` passes (then closes). */
export function rawHttp(
  target: Target,
  request: string | Buffer,
  options: { timeoutMs?: number; localAddress?: string } = {},
): Promise<RawResponse> {
  return new Promise((resolve) => {
    const socket = connect({
      host: '127.0.0.1',
      port: target.port,
      ...(options.localAddress ? { localAddress: options.localAddress } : {}),
    });
    let text = '';
    const done = () => {
      clearTimeout(timer);
      socket.destroy();
      const m = /^HTTP\/1\.[01] (\d{3})/.exec(text);
      resolve({ status: m ? Number(m[1]) : undefined, text });
    };
    const timer = setTimeout(done, options.timeoutMs ?? 5_000);
    socket.on('data', (d) => {
      text += d.toString('latin1');
    });
    socket.on('error', () => {});
    socket.on('close', done);
    socket.write(request);
  });
}

/** A GET request for `path` as written, closing the connection after the answer. */
export const get = (target: Target, path: string, headers: Record<string, string> = {}) =>
  rawHttp(
    target,
    `GET ${path} HTTP/1.1\r\nHost: ${target.host}\r\nConnection: close\r\n${Object.entries(headers)
      .map(([k, v]) => `${k}: ${v}\r\n`)
      .join('')}\r\n`,
  );

/** A connection that dribbles a request: `first`, then one header line every `everyMs`. */
export function dribble(
  target: Target,
  options: { first: string; everyMs: number; localAddress?: string },
): { socket: Socket; closedAt: Promise<number> } {
  const started = performance.now();
  const socket = connect({
    host: '127.0.0.1',
    port: target.port,
    ...(options.localAddress ? { localAddress: options.localAddress } : {}),
  });
  let i = 0;
  const timer = setInterval(() => {
    if (!socket.destroyed) socket.write(`X-Slow-${i++}: ${'a'.repeat(8)}\r\n`);
  }, options.everyMs);
  socket.on('error', () => {});
  socket.on('data', () => {});
  if (options.first) socket.write(options.first);
  const closedAt = new Promise<number>((resolve) =>
    socket.on('close', () => {
      clearInterval(timer);
      resolve(performance.now() - started);
    }),
  );
  return { socket, closedAt };
}
