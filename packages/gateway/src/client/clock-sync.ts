/**
 * The client's estimate of the gateway's clock: NTP-style probes on the control lane, every
 * `probeIntervalMs` and a burst of four before the first command of a connection, each one carrying
 * the previous probe's times so the gateway can bound the offset too. Commands' deadlines are judged
 * on this estimate.
 */
import type { Clock } from '@telekit/core';
import { type OffsetEstimate, OffsetEstimator } from '@telekit/core/transport';
import type { Socket } from 'socket.io-client';
import type { TimeAnswer } from '../protocol.js';
import type { PendingAnswers } from './pending-answers.js';

export class ClockSync {
  private readonly _estimator = new OffsetEstimator();
  // The previous time probe, reported in the next so the gateway can bound the clock offset.
  private _lastProbe: { t0: number; t3: number } | undefined;
  private _timer: ReturnType<typeof setInterval> | undefined;

  constructor(
    private readonly _clock: Clock,
    private readonly _answers: PendingAnswers,
    private readonly _socket: Socket,
  ) {}

  /** Server clock minus this client's, once a probe came back. */
  estimate(): OffsetEstimate | undefined {
    return this._estimator.estimate();
  }

  /** Probes every `intervalMs` from now on (once; a second call changes nothing). */
  start(intervalMs: number): void {
    this._timer ??= setInterval(() => void this.probe(), intervalMs);
  }

  stop(): void {
    if (this._timer) clearInterval(this._timer);
  }

  /** A new session: the previous probe is not reported to it. */
  forgetLastProbe(): void {
    this._lastProbe = undefined;
  }

  /** A fresh estimate (four probes), so a new connection's deadlines are judged on the right clock. */
  async resync(): Promise<void> {
    this._estimator.reset();
    for (let i = 0; i < 4; i++) await this.probe();
  }

  /** One clock probe on the control lane (an NTP-style exchange). */
  probe(): Promise<void> {
    const socket = this._socket;
    if (!socket.connected) return Promise.resolve();
    const t0 = this._clock.now();
    const last = this._lastProbe;
    this._lastProbe = undefined;
    return this._answers.ask<TimeAnswer>(socket, 'time', { t0, ...(last ? { last } : {}) }).then(
      (a) => {
        if (!a || typeof a.t1 !== 'number') return;
        const t3 = this._clock.now();
        this._lastProbe = { t0, t3 };
        this._estimator.add({ t0, t1: a.t1, t2: a.t2, t3 });
      },
      () => undefined,
    );
  }
}
