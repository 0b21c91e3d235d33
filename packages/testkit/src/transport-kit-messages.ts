// The messages and topics the Transport kit publishes: valid twists and battery samples stamped
// now, the lifetime given to commands that must outlive a loaded machine, and a short wait for what
// is already scheduled. Public through `describe-transport.ts` (`twist`, `battery`, `settle`,
// `transportKitTopics`) so that a transport's own tests can build the same messages.

import { type Topic, Topics, type Twist } from '@telekit/core';

/** Now, on `systemClock`'s timeline, ms. */
export const stamp = () => performance.timeOrigin + performance.now();
// Commands of the cases that are not about deadlines outlive a loaded machine and a slow link.
export const FRESH = { ttl: 10_000 } as const;

/** Builds a valid twist with the given sequence number and forward speed. */
export function twist(
  seq: number,
  x = 0.1,
  options: { stamp?: number; ttl?: number; sender?: string } = {},
): Twist {
  return {
    header: {
      seq,
      stamp: options.stamp ?? stamp(),
      sender: options.sender ?? 'kit',
      ...(options.ttl === undefined ? {} : { ttl: options.ttl }),
    },
    linear: { x, y: 0, z: 0 },
    angular: { x: 0, y: 0, z: 0 },
  };
}

/** Builds a valid battery sample with the given sequence number. */
export function battery(seq: number) {
  return {
    header: { seq, stamp: stamp(), sender: 'kit' },
    percentage: (seq % 100) / 100,
    voltage: 24,
    charging: false,
  };
}

/** Lets everything scheduled so far (microtasks, then one macrotask turn) run. */
export async function settle(ms = 10): Promise<void> {
  await new Promise((resolve) => setTimeout(resolve, ms));
}

/** The topics the kit uses, for transports that need them registered up front. */
export const transportKitTopics: readonly Topic[] = [Topics.twist as Topic, Topics.battery as Topic];
