/**
 * Time in browser mode, on this page's clock (`performance.now()`, ms): where the page's simulation
 * should be — real time from a base, kept a lead ahead of the authority ({@link SimClock.follow}) —
 * and where the authority's simulation is, anchored at each snapshot's arrival less its trip
 * ({@link SimClock.anchor}). Plain arithmetic: `BrowserSimulation` reads the clock and steps.
 *
 * @module
 */

/** The page's and the authority's simulated time, on this page's clock. */
export class SimClock {
  /** Real time runs from `sim` (s) at `wall` (page ms). */
  #base = { wall: 0, sim: 0 };
  /** The authority's simulated time at a moment of this page's clock, from the last snapshot. */
  #authority: { sim: number; wall: number } | undefined;

  /** Real time restarts from simulated time `sim` (s) at `wall` (at start, after a hidden tab). */
  restart(wall: number, sim: number): void {
    this.#base = { wall, sim };
  }

  /** Where the page's simulation should be at `wall`, s. */
  target(wall: number): number {
    return this.#base.sim + (wall - this.#base.wall) / 1000;
  }

  /**
   * Keeps the page `lead` s ahead of the authority's clock (`authorityTime` at `wall`): if the server
   * runs slower or faster than real time (a loaded host), or was reset, the real-time target moves
   * to match.
   */
  follow(authorityTime: number, lead: number, wall: number): void {
    if (Math.abs(this.target(wall) - (authorityTime + lead)) > lead / 2)
      this.#base = { wall, sim: authorityTime + lead };
  }

  /**
   * Where the authority was when it took a snapshot (simulated `time`, sent at `stamp` on the
   * server's clock), on this page's clock: arrival minus the trip. `offset` is the server's clock
   * minus this page's, ms, if known.
   */
  anchor(time: number, stamp: number, arrivedAt: number, offset: number | undefined): void {
    // The trip: received (page clock, moved to the server's) minus sent (server clock). A bad
    // offset could make it negative or absurd: then it is taken as zero.
    const trip = offset === undefined ? 0 : performance.timeOrigin + arrivedAt + offset - stamp;
    const wall = arrivedAt - (trip > 0 && trip < 1_000 ? trip : 0);
    this.#authority = { sim: time, wall };
  }

  /** The authority's simulated time at `wall` (this page's `performance.now()`), s, once a snapshot came. */
  authorityTime(wall: number): number | undefined {
    const a = this.#authority;
    return a ? a.sim + (wall - a.wall) / 1000 : undefined;
  }
}
