import { createConnection, type Socket } from 'node:net';
import { TelekitError } from '@telekit/core';
import { Packr } from 'msgpackr';
import { type Observable, Subject } from 'rxjs';

// Standard MessagePack, as Python's msgpack reads and writes it: maps (no msgpackr records), an
// absent field as nil. msgpackr is the one MessagePack library of Telekit's packages.
const packr = new Packr({ useRecords: false, moreTypes: false, encodeUndefinedAsNil: true });

/** The sidecar protocol version this client speaks (2: `hello` with a token, commands' fates, pings carrying Node's time). */
export const SIDECAR_PROTOCOL = 2;

/** An error the sidecar answered with. */
export interface SidecarErrorInfo {
  code: string;
  message: string;
  file?: string;
  line?: number;
  field?: string;
}

/** An event the sidecar sent unasked: `state`, `frame`, `deadman`, `progress` (a scene load's), or `actuation` (a command's fate, to its sender). */
export type SidecarEvent = { event: string } & Record<string, unknown>;

const MAX_FRAME = 64 * 1024 * 1024;

/** Options of {@link SidecarConnection.connect}. */
export interface SidecarConnectOptions {
  /** Give up connecting after this long, ms. Default 10 000. */
  timeoutMs?: number;
}

/**
 * One connection to a sidecar: length-prefixed msgpack frames over TCP or a Unix socket, requests
 * matched to answers by id, events on `events$`. The first request on a sidecar that has a token
 * must be `hello` with it (`{ token }`); a simulator's `openConnection()` does that for you.
 *
 * @example
 * ```ts
 * import { SidecarConnection } from '@telekit/sim-genesis';
 * const conn = await SidecarConnection.connect('unix:/run/telekit/sim.sock');
 * await conn.request('hello', { token: process.env.TELEKIT_SIM_TOKEN });
 * console.log(await conn.request('stats'));
 * conn.close();
 * ```
 */
export class SidecarConnection {
  readonly events$: Observable<SidecarEvent>;
  readonly closed: Promise<void>;
  readonly #socket: Socket;
  readonly #events = new Subject<SidecarEvent>();
  readonly #pending = new Map<
    number,
    {
      resolve: (v: Record<string, unknown>) => void;
      reject: (e: Error) => void;
      timer: ReturnType<typeof setTimeout> | undefined;
    }
  >();
  #nextId = 1;
  #buffer: Buffer = Buffer.alloc(0);
  #closed = false;

  private constructor(socket: Socket) {
    this.#socket = socket;
    this.events$ = this.#events.asObservable();
    socket.setNoDelay(true);
    socket.on('data', (chunk) => this.#onData(chunk));
    this.closed = new Promise<void>((resolve) => {
      socket.once('close', () => {
        this.#closed = true;
        for (const p of this.#pending.values()) {
          clearTimeout(p.timer);
          p.reject(new TelekitError('E_SIDECAR_GONE', 'the sidecar connection closed'));
        }
        this.#pending.clear();
        this.#events.complete();
        resolve();
      });
    });
    socket.on('error', () => undefined); // 'close' follows and reports it
  }

  /** Connects to `host:port` or `unix:/path`. */
  static connect(address: string, options: SidecarConnectOptions = {}): Promise<SidecarConnection> {
    const timeoutMs = options.timeoutMs ?? 10_000;
    return new Promise((resolve, reject) => {
      const socket = address.startsWith('unix:')
        ? createConnection({ path: address.slice(5) })
        : (() => {
            const i = address.lastIndexOf(':');
            return createConnection({
              host: address.slice(0, i) || '127.0.0.1',
              port: Number(address.slice(i + 1)),
            });
          })();
      const timer = setTimeout(() => {
        socket.destroy();
        reject(
          new TelekitError('E_TIMEOUT', 'could not reach the sidecar', {
            operation: 'connect',
            context: { address, ms: timeoutMs },
          }),
        );
      }, timeoutMs);
      socket.once('connect', () => {
        clearTimeout(timer);
        resolve(new SidecarConnection(socket));
      });
      socket.once('error', (error) => {
        clearTimeout(timer);
        reject(
          new TelekitError('E_SIDECAR_GONE', `could not reach the sidecar: ${error.message}`, {
            operation: 'connect',
            context: { address },
          }),
        );
      });
    });
  }

  /** True once the connection is closed (by either side). */
  get isClosed(): boolean {
    return this.#closed;
  }

  /**
   * Sends a request and resolves with the answer; rejects with the sidecar's error, on timeout, or
   * when the connection closes. `timeoutMs` 0 (or Infinity) waits as long as the connection lasts:
   * for a request whose length is judged otherwise (a scene load, by its progress).
   */
  request<T extends Record<string, unknown> = Record<string, unknown>>(
    op: string,
    args: Record<string, unknown> = {},
    timeoutMs = 10_000,
  ): Promise<T> {
    if (this.#closed)
      return Promise.reject(
        new TelekitError('E_SIDECAR_GONE', 'the sidecar connection is closed', { operation: op }),
      );
    const id = this.#nextId++;
    const body = packr.pack({ ...args, id, op });
    const header = Buffer.alloc(4);
    header.writeUInt32BE(body.byteLength);
    return new Promise<T>((resolve, reject) => {
      const timer =
        timeoutMs > 0 && Number.isFinite(timeoutMs)
          ? setTimeout(() => {
              this.#pending.delete(id);
              reject(
                new TelekitError('E_TIMEOUT', 'the sidecar did not answer', {
                  operation: op,
                  context: { op, ms: timeoutMs },
                }),
              );
            }, timeoutMs)
          : undefined;
      this.#pending.set(id, { resolve: resolve as (v: Record<string, unknown>) => void, reject, timer });
      this.#socket.write(Buffer.concat([header, body]));
    });
  }

  /** Closes the connection; pending requests reject with `E_SIDECAR_GONE`. Safe twice. */
  close(): void {
    this.#socket.destroy();
  }

  #onData(chunk: Buffer): void {
    this.#buffer = this.#buffer.length === 0 ? chunk : Buffer.concat([this.#buffer, chunk]);
    while (this.#buffer.length >= 4) {
      const length = this.#buffer.readUInt32BE(0);
      if (length > MAX_FRAME) {
        this.#socket.destroy(new Error(`sidecar frame of ${length} bytes exceeds ${MAX_FRAME}`));
        return;
      }
      if (this.#buffer.length < 4 + length) return;
      const body = this.#buffer.subarray(4, 4 + length);
      this.#buffer = this.#buffer.subarray(4 + length);
      let message: Record<string, unknown>;
      try {
        message = packr.unpack(body) as Record<string, unknown>;
      } catch {
        continue;
      }
      if (typeof message.event === 'string') {
        this.#events.next(message as SidecarEvent);
        continue;
      }
      const pending = this.#pending.get(message.id as number);
      if (!pending) continue;
      this.#pending.delete(message.id as number);
      clearTimeout(pending.timer);
      if (message.ok) pending.resolve(message);
      else {
        const e = (message.error ?? {
          code: 'E_SIDECAR',
          message: 'the sidecar refused',
        }) as SidecarErrorInfo;
        const error = new TelekitError(e.code, e.message, {
          operation: 'sidecar',
          context: {
            ...(e.file ? { file: e.file } : {}),
            ...(e.line ? { line: e.line } : {}),
            ...(e.field ? { field: e.field } : {}),
          },
        });
        pending.reject(error);
      }
    }
  }
}
