/**
 * rclnodejs as the ROS transports share it: one context per process, initialised by the first
 * transport and shut down by the last; and a mapping's QoS in rmw's terms.
 */
import type * as rclnodejs from 'rclnodejs';
import type { QosSpec } from './mapping.js';
import type { RclModule } from './rcl.js';

/** Processes sharing one rclnodejs context: initialised by the first transport, shut down by the last. */
const contexts = new WeakMap<RclModule, { users: number; ready: Promise<void> }>();

/** Joins the process's rclnodejs context (initialising it for its first user). */
export async function acquire(rcl: RclModule): Promise<void> {
  let entry = contexts.get(rcl);
  if (!entry) {
    entry = { users: 0, ready: rcl.isShutdown() ? rcl.init() : Promise.resolve() };
    contexts.set(rcl, entry);
  }
  entry.users++;
  await entry.ready;
}

/** Leaves the context; its last user shuts it down. */
export function release(rcl: RclModule): void {
  const entry = contexts.get(rcl);
  if (!entry || --entry.users > 0) return;
  contexts.delete(rcl);
  if (!rcl.isShutdown()) rcl.shutdown();
}

/** A mapping's QoS as rclnodejs takes it (default keep-last 10, reliable, volatile). */
export function qosOf(rcl: RclModule, spec: QosSpec = {}): rclnodejs.QoS {
  // rmw's values: history keep-last 1 / keep-all 2; reliable 1 / best effort 2; transient local 1 / volatile 2.
  return new rcl.QoS(
    spec.history === 'keep-all' ? 2 : 1,
    spec.depth ?? 10,
    spec.reliability === 'best-effort' ? 2 : 1,
    spec.durability === 'transient-local' ? 1 : 2,
  );
}
