/**
 * A {@link defineTransport} transport's connection: its state machine over the link — `idle` →
 * `connecting` (attempts repeat with jittered backoff) → `connected`; after a loss, `reconnecting`
 * until the link is back; `disconnected` when it gives up (attempts ran out, or the link refused
 * with `E_AUTH`/`E_CONFIG`); `closed` after `close()` — and the callers of `connect()` waiting for
 * it, each with its own timeout.
 */
import { BehaviorSubject } from 'rxjs';
import type { Clock } from '../clock.js';
import { isTelekitError, TelekitError } from '../errors.js';
import type { Link, LinkEvents, LinkStats } from './link.js';
import type { ConnectionState, ConnectionStatus } from './transport.js';

/** How a transport tries again (every field given). */
export interface RetryPolicy {
  delayMs: number;
  maxDelayMs: number;
  attempts: number;
}

export interface LinkConnectorOptions {
  name: string;
  link: Link;
  clock: Clock;
  /** How to try again, or undefined to give up at once. */
  retry: RetryPolicy | undefined;
  counters: LinkStats;
  /** A frame arrived on the current connection. */
  receive(topic: string, data: Uint8Array | string): void;
  /** The link connected (state `connected` already): ask for topics, send what was kept. */
  connected(connection: LinkEvents): void;
  /** The current connection was lost (before the state says so). */
  lost(): void;
}

interface Waiter {
  resolve(): void;
  reject(error: Error): void;
  timer: ReturnType<typeof setTimeout>;
}

/** The connection of one transport, as {@link createLinkConnector} makes it. */
export interface LinkConnector {
  readonly state: BehaviorSubject<ConnectionState>;
  /** The current connection's events while connected; undefined while down. */
  readonly current: LinkEvents | undefined;
  /** True after `close()`. */
  readonly closed: boolean;
  /** Resolves once connected; rejects after `timeoutMs` (trying on), or when it gives up. */
  connect(timeoutMs: number): Promise<void>;
  /** Stops trying and fails every waiting `connect()` with an `error()`; the state is left to the caller. */
  close(error: () => Error): void;
}

const FATAL = new Set(['E_AUTH', 'E_CONFIG']);
export const messageOf = (error: unknown) => (error instanceof Error ? error.message : String(error));
export const codeOf = (error: unknown) => (isTelekitError(error) ? error.code : 'E_NOT_CONNECTED');

export function createLinkConnector(o: LinkConnectorOptions): LinkConnector {
  const { link, name, clock, retry, counters } = o;
  const state = new BehaviorSubject<ConnectionState>({ status: 'idle', since: clock.now() });
  const waiters = new Set<Waiter>();
  // The current connection's events while connected; undefined while down.
  let current: LinkEvents | undefined;
  let attempting = false;
  let retryTimer: ReturnType<typeof setTimeout> | undefined;
  let failures = 0;
  let trying: 'connecting' | 'reconnecting' = 'connecting';
  let closed = false;

  const setState = (status: ConnectionStatus, reason?: string) => {
    const now = state.value;
    if (now.status === 'closed' || (now.status === status && now.reason === reason)) return;
    state.next({ status, since: clock.now(), ...(reason === undefined ? {} : { reason }) });
  };

  function attempt(): void {
    retryTimer = undefined;
    if (closed || attempting || current) return;
    attempting = true;
    setState(trying, state.value.reason);
    const connection: LinkEvents = {
      receive: (topic, data) => {
        if (current === connection) o.receive(topic, data);
      },
      lost: (reason) => {
        if (current === connection) lose(reason);
      },
    };
    link.connect(connection).then(
      () => {
        attempting = false;
        if (closed) return void link.close().catch(() => undefined);
        current = connection;
        failures = 0;
        counters.connects++;
        setState('connected');
        o.connected(connection);
        for (const w of waiters) settle(w);
      },
      (error: unknown) => {
        attempting = false;
        if (closed) return;
        failures++;
        const reason = messageOf(error);
        const fatal = isTelekitError(error) && FATAL.has(error.code);
        if (!retry || fatal || failures >= retry.attempts) return giveUp(error);
        setState(trying, reason);
        later();
      },
    );
  }

  function later(): void {
    if (!retry) return;
    const delay = Math.min(retry.delayMs * 2 ** Math.max(0, failures - 1), retry.maxDelayMs);
    // Jitter, so that many clients of one restarted broker do not all come back at once.
    retryTimer = setTimeout(attempt, delay * (0.75 + Math.random() * 0.5));
  }

  function lose(reason: string): void {
    current = undefined;
    o.lost();
    if (!retry) {
      setState('disconnected', reason);
      return;
    }
    trying = 'reconnecting';
    setState('reconnecting', reason);
    later();
  }

  function giveUp(error: unknown): void {
    setState('disconnected', messageOf(error));
    const e = new TelekitError(codeOf(error), `${name} cannot connect: ${messageOf(error)}`, {
      operation: 'connect',
      cause: error,
      context: { transport: name, attempts: failures },
    });
    for (const w of waiters) settle(w, e);
  }

  function settle(w: Waiter, error?: Error): void {
    clearTimeout(w.timer);
    waiters.delete(w);
    if (error) w.reject(error);
    else w.resolve();
  }

  return {
    state,
    get current() {
      return current;
    },
    get closed() {
      return closed;
    },
    connect(ms) {
      if (current) return Promise.resolve();
      const done = new Promise<void>((resolve, reject) => {
        const w: Waiter = {
          resolve,
          reject,
          timer: setTimeout(() => {
            const e = new TelekitError('E_TIMEOUT', `${name} is not connected yet`, {
              operation: 'connect',
              context: { transport: name, ms },
            });
            settle(w, e);
          }, ms),
        };
        waiters.add(w);
      });
      if (!attempting && retryTimer === undefined) {
        trying = 'connecting';
        failures = 0;
        attempt();
      }
      return done;
    },
    close(error) {
      closed = true;
      clearTimeout(retryTimer);
      for (const w of waiters) settle(w, error());
      current = undefined;
    },
  };
}
