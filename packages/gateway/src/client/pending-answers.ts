import { TelekitError } from '@telekit/core';
import type { Socket } from 'socket.io-client';

/**
 * Requests sent with an acknowledgement and awaiting it: each fails after its time, and all of them
 * at once when the client closes (their timers with them).
 */
export class PendingAnswers {
  private readonly _pending = new Set<{ timer: ReturnType<typeof setTimeout>; fail: (e: Error) => void }>();

  /** Emits `event` with an acknowledgement, failing with `E_TIMEOUT` after `ms`. */
  ask<T>(socket: Socket, event: string, payload: unknown, ms = 5_000, ...more: unknown[]): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const entry = {
        timer: setTimeout(() => {
          this._pending.delete(entry);
          reject(
            new TelekitError('E_TIMEOUT', `no answer to ${event}`, { operation: event, context: { ms } }),
          );
        }, ms),
        fail: reject,
      };
      this._pending.add(entry);
      socket.emit(event, payload, ...more, (answer: T) => {
        clearTimeout(entry.timer);
        this._pending.delete(entry);
        resolve(answer);
      });
    });
  }

  /** Fails every request still waiting. */
  failAll(error: Error): void {
    for (const p of this._pending) {
      clearTimeout(p.timer);
      p.fail(error);
    }
    this._pending.clear();
  }
}
