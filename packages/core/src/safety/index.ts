/**
 * The safety primitives: `@telekit/core/safety`. The deadline filter, the deadman, the e-stop latch,
 * the control lease, and the `SafetyGate` that chains them in front of an actuator. (`zeroTwist` and
 * `isZeroTwist` are `@telekit/core`'s.)
 *
 * @module
 */

export {
  ControlLease,
  type ControlLeaseOptions,
  type LeaseChange,
  type LeaseChangeReason,
  type LeaseClient,
  type LeaseDecision,
  type LeaseHolder,
  type Role,
} from './control-lease.js';
export { checkDeadline, type DeadlineOptions, type DeadlineVerdict } from './deadline.js';
export { type DeadmanOptions, deadman } from './deadman.js';
export { EStopLatch, type EStopState, estopGate } from './estop-latch.js';
export {
  type GateVerdict,
  type LeaseCheck,
  type SafetyEvent,
  SafetyGate,
  type SafetyGateOptions,
  type SafetyGateStats,
} from './safety-gate.js';
