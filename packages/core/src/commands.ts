import type { Header } from './schemas/common.js';
import type { Twist } from './schemas/control.js';
import type { Actuation, CommandFate } from './schemas/telemetry.js';

/**
 * A zero twist (stop the base), stamped `now`. With the header of the command it replaces, it keeps
 * that command's sender and sequence number so the stop can be traced to it.
 */
export function zeroTwist(now: number, replaces?: Header): Twist {
  return {
    header: { seq: replaces?.seq ?? 0, stamp: now, sender: replaces?.sender ?? 'safety' },
    linear: { x: 0, y: 0, z: 0 },
    angular: { x: 0, y: 0, z: 0 },
  };
}

/** True when a twist commands no motion. */
export function isZeroTwist(t: Pick<Twist, 'linear' | 'angular'>): boolean {
  return (
    t.linear.x === 0 &&
    t.linear.y === 0 &&
    t.linear.z === 0 &&
    t.angular.x === 0 &&
    t.angular.y === 0 &&
    t.angular.z === 0
  );
}

/** Hands out headers for one sender and topic: sequence numbers from 0, stamped by `now()`. */
export function headerSequence(sender: string, now: () => number): (ttl?: number) => Header {
  let seq = 0;
  return (ttl) =>
    ttl === undefined ? { seq: seq++, stamp: now(), sender } : { seq: seq++, stamp: now(), sender, ttl };
}

/**
 * The `/telemetry/actuation` report for a command that took effect (or, with another `fate`, was
 * dropped) at `actuatedAt` (ms, the actuator's clock), published with `header` by whatever acts on it.
 *
 * @example
 * ```ts
 * import { actuationReport, headerSequence, systemClock, Topics } from '@telekit/core';
 * const next = headerSequence('robot', systemClock.now);
 * transport.subscribe(Topics.twist).subscribe((cmd) => {
 *   drive(cmd);
 *   transport.publish(Topics.actuation, actuationReport(Topics.twist, cmd.header, next(), systemClock.now()));
 * });
 * ```
 */
export function actuationReport(
  topic: { name: string },
  command: Header,
  header: Header,
  actuatedAt: number,
  fate: CommandFate = 'applied',
): Actuation {
  return {
    header,
    command: { topic: topic.name, sender: command.sender, seq: command.seq, stamp: command.stamp },
    actuatedAt,
    fate,
  };
}
