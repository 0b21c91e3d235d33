import type { Socket } from 'node:net';

/**
 * How many TCP connections one address may hold before their first request's headers are in (the
 * request line and headers of an HTTP request, or of a WebSocket upgrade). A connection past
 * `limit` is destroyed as it is accepted, before the HTTP parser is given to it: a client that opens
 * thousands of connections and never sends a request line (the header timeout would cut each after
 * 10 s) holds at most `limit` of them at a time. Once its headers are in, a connection no longer
 * counts here: the limits of what it opened (`connectionsPerAddress`, `unauthenticatedPerAddress`)
 * and the keep-alive timeout govern it from then on.
 */
export class PreHeaderCap {
  readonly #limit: number;
  readonly #refused: () => void;
  readonly #waiting = new Map<string, number>();
  /** What each counted connection calls once, when its headers are in or when it closes. */
  readonly #release = new WeakMap<object, () => void>();

  /** `refused` is called for each connection destroyed at the cap (to count it). */
  constructor(limit: number, refused: () => void) {
    this.#limit = limit;
    this.#refused = refused;
  }

  /** A connection was accepted: counts it against its address, or destroys it when that is full. */
  readonly opened = (socket: Socket): void => {
    const address = socket.remoteAddress;
    // Gone before it was accepted (no address any more): nothing to count.
    if (address === undefined) return void socket.destroy();
    const n = this.#waiting.get(address) ?? 0;
    if (n >= this.#limit) {
      this.#refused();
      socket.destroy();
      return;
    }
    this.#waiting.set(address, n + 1);
    let counted = true;
    const release = () => {
      if (!counted) return;
      counted = false;
      // Nothing of this stays with a connection whose headers are in (a client holds it for hours).
      socket.removeListener('close', release);
      this.#release.delete(socket);
      const left = (this.#waiting.get(address) ?? 1) - 1;
      if (left > 0) this.#waiting.set(address, left);
      else this.#waiting.delete(address);
    };
    this.#release.set(socket, release);
    socket.once('close', release);
  };

  /** The connection's first request's headers are in (a request or an upgrade): it no longer counts. */
  headersIn(socket: object): void {
    this.#release.get(socket)?.();
  }
}
