/**
 * A message that arrived encoded, decoded only when it is delivered: given to
 * {@link InProcessBus.inject} in place of the message, it waits in the subscribers' mailboxes as
 * bytes, and one a newer sample replaces first (keep-last telemetry a subscriber could not keep up
 * with) is never decoded at all. A client that reads a fast topic slower than it arrives then spends
 * nothing on the samples it drops.
 *
 * `decode` runs once, however many subscribers get the message; it returns the message (decoded
 * and, where the reader wants it, validated) or `undefined` when it cannot be used — after
 * reporting why itself (a refusal counted on the bus, a fault to the app).
 *
 * @example
 * ```ts
 * import { Encoded } from '@telekit/core/transport';
 * bus.inject(Topics.battery, new Encoded(() => decode(bytes)));
 * ```
 */
export class Encoded<T = unknown> {
  #decode: (() => T | undefined) | undefined;
  #value: T | undefined;

  constructor(decode: () => T | undefined) {
    this.#decode = decode;
  }

  /** The message, decoded on the first call; `undefined` when it could not be used. */
  value(): T | undefined {
    const decode = this.#decode;
    if (decode) {
      this.#decode = undefined;
      this.#value = decode();
    }
    return this.#value;
  }
}
