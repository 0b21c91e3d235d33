/**
 * The control lease as this client sees it: who holds it (from the gateway's `lease` events and
 * welcomes), asking for it and giving it up, and asking again after a reconnect for as long as this
 * client wants it.
 */
import { TelekitError } from '@telekit/core';
import { BehaviorSubject } from 'rxjs';
import type { Socket } from 'socket.io-client';
import type { LeaseAnswer, LeaseInfo } from '../protocol.js';
import type { PendingAnswers } from './pending-answers.js';

export class ControlLease {
  /** The holder, `null` when the lease is free. */
  readonly holder$ = new BehaviorSubject<LeaseInfo | null>(null);
  private _wantsControl = false;
  private _takeover = false;

  constructor(
    private readonly _socket: Socket,
    private readonly _answers: PendingAnswers,
  ) {
    _socket.on('lease', (h: LeaseInfo | null) => this.holder$.next(h ?? null));
  }

  /** True while `clientId` holds the lease. */
  heldBy(clientId: string | undefined): boolean {
    return this.holder$.value !== null && this.holder$.value.id === clientId;
  }

  request(opts: { takeover?: boolean } = {}): Promise<LeaseAnswer> {
    this._wantsControl = true;
    this._takeover = opts.takeover ?? false;
    if (!this._socket.connected) {
      return Promise.reject(
        new TelekitError('E_NOT_CONNECTED', 'not connected', { operation: 'requestControl' }),
      );
    }
    const action = this._takeover ? 'takeover' : 'acquire';
    return this._answers.ask<LeaseAnswer>(this._socket, 'lease', { action }).then((answer) => {
      if (answer.granted) this.holder$.next(answer.holder);
      else this._wantsControl = false; // someone else has it now: don't fight for it after reconnects
      return answer;
    });
  }

  release(): Promise<void> {
    this._wantsControl = false;
    if (!this._socket.connected) return Promise.resolve();
    return this._answers.ask(this._socket, 'lease', { action: 'release' }).then(
      () => undefined,
      () => undefined,
    );
  }

  /** After a (re)connect: asks for the lease again if this client wanted it. */
  restore(): void {
    if (this._wantsControl) void this.request({ takeover: this._takeover }).catch(() => undefined);
  }
}
