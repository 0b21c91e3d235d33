/**
 * The simulator's time as the Foxglove endpoint follows it: `/telemetry/sim_state` read while anyone
 * is connected, stamps in simulated time between reports ({@link SimClock}), a `time` frame to
 * every client at most every 50 ms, and a warning status when the simulator restarts.
 */
import { type Clock, Topics, type Transport } from '@telekit/core';
import type { Subscription } from 'rxjs';
import type { TimeBase } from './channels.js';
import type { FoxgloveConnection } from './foxglove-connection.js';
import { SimClock } from './sim-clock.js';
import { msToNs, StatusLevel, timeFrame } from './wire.js';

export class SimFeed {
  readonly time: TimeBase;
  readonly #sim = new SimClock();
  readonly #transport: Transport;
  readonly #clock: Clock;
  readonly #connections: ReadonlySet<FoxgloveConnection>;
  #lastScene: { scene: string; step: number } | undefined;
  #lastTimeSent = 0;
  #feed: Subscription | undefined;

  /** `simulated`: stamps and `time` frames in the simulator's time, else the wall clock's. */
  constructor(
    transport: Transport,
    clock: Clock,
    simulated: boolean,
    connections: ReadonlySet<FoxgloveConnection>,
  ) {
    this.#transport = transport;
    this.#clock = clock;
    this.#connections = connections;
    this.time = { simulated, stamp: (wallMs) => (simulated ? this.#sim.at(wallMs) : wallMs) };
  }

  /** Follows the simulator (once a client is connected); a second call does nothing. */
  follow(): void {
    this.#feed ??= this.#transport.subscribe(Topics.simState, { depth: 1 }).subscribe((s) => {
      this.#sim.report(s.time, s.realtimeFactor, Date.now());
      const last = this.#lastScene;
      if (last && (s.scene !== last.scene || s.step < last.step))
        for (const c of this.#connections)
          c.status(StatusLevel.warning, `simulator restarted (scene ${s.scene})`, 'simulator');
      this.#lastScene = { scene: s.scene, step: s.step };
      const now = this.#clock.now();
      if (this.time.simulated && now - this.#lastTimeSent >= 50) {
        this.#lastTimeSent = now;
        const frame = timeFrame(msToNs(this.#sim.at(Date.now())));
        for (const c of this.#connections) c.sendBinary(frame, 1_000_000);
      }
    });
  }

  /** Stops following (the last client left, or the endpoint closes). */
  unfollow(): void {
    this.#feed?.unsubscribe();
    this.#feed = undefined;
  }
}
