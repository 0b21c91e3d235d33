/**
 * Actions from a learned policy instead of the operator's hands: a small waypoint policy shipped as
 * ONNX and run with onnxruntime-web. A separate entry (`@telekit/sim-browser/policy`), so pages that
 * do not use it do not load it.
 *
 * @module
 */
import { TelekitError } from '@telekit/core';
import type { BaseState } from '@telekit/core/contracts';
import type { Vector3 } from '@telekit/core/schemas';

/** A twist to send: what the policy decided. */
export interface PolicyTwist {
  readonly linear: Vector3;
  readonly angular: Vector3;
}

/** A learned controller: goal in the robot's frame in, twist out. */
export interface WaypointPolicy {
  /** The twist toward `goal`, given in the robot's frame (m; x forward, y left). */
  twist(goal: { x: number; y: number }): Promise<PolicyTwist>;
  /** Frees the inference session. */
  close(): Promise<void>;
}

/** Options of {@link waypointPolicy}. */
export interface WaypointPolicyOptions {
  /** The ONNX model: its bytes, or a URL. Default: the model shipped in this package. */
  model?: Uint8Array | string;
  /** Where the page serves onnxruntime-web's `.wasm` files (`browserSimRoutes` serves them at `/sim/ort/`). */
  wasmPaths?: string;
}

/** The model this package ships (see `policy/train_waypoint_policy.py`), as a URL beside this module. */
export const WAYPOINT_POLICY_URL = new URL('../policy/waypoint_policy.onnx', import.meta.url);

/**
 * The waypoint policy shipped with this package, run with onnxruntime-web (WebAssembly, one thread;
 * an optional peer dependency, loaded on first use): a 2→32→32→2 MLP trained by behaviour cloning of a
 * proportional waypoint controller for the wheeled robot (`policy/train_waypoint_policy.py` trains
 * and exports it). Input: the goal in the robot's frame; output: forward speed and yaw rate.
 *
 * @example
 * ```ts
 * const policy = await waypointPolicy({ model: '/sim/policy/waypoint.onnx', wasmPaths: '/sim/ort/' });
 * const { linear, angular } = await policy.twist(goalInRobotFrame(base, { x: 2, y: 1 }));
 * ```
 */
export async function waypointPolicy(options: WaypointPolicyOptions = {}): Promise<WaypointPolicy> {
  let ort: typeof import('onnxruntime-web');
  try {
    ort = await import('onnxruntime-web');
  } catch (error) {
    throw new TelekitError('E_POLICY', 'onnxruntime-web is not installed: npm install onnxruntime-web', {
      operation: 'waypointPolicy',
      cause: error,
    });
  }
  ort.env.wasm.numThreads = 1; // no SharedArrayBuffer needed (no cross-origin isolation)
  if (options.wasmPaths) ort.env.wasm.wasmPaths = options.wasmPaths;
  const model = options.model ?? (await readBundledModel());
  let session: import('onnxruntime-web').InferenceSession;
  try {
    session = await ort.InferenceSession.create(model as Uint8Array);
  } catch (error) {
    throw new TelekitError('E_POLICY', `cannot load the policy model: ${(error as Error).message}`, {
      operation: 'waypointPolicy',
      cause: error,
      context: { model: typeof model === 'string' ? model : `${model.byteLength} bytes` },
    });
  }
  const [input = 'obs'] = session.inputNames;
  const [output = 'twist'] = session.outputNames;
  return {
    async twist(goal) {
      const result = await session.run({
        [input]: new ort.Tensor('float32', Float32Array.of(goal.x, goal.y), [1, 2]),
      });
      const [v = 0, w = 0] = result[output]!.data as Float32Array;
      return { linear: { x: v, y: 0, z: 0 }, angular: { x: 0, y: 0, z: w } };
    },
    close: () => session.release(),
  };
}

async function readBundledModel(): Promise<Uint8Array> {
  if (WAYPOINT_POLICY_URL.protocol === 'file:') {
    const { readFile } = await import('node:fs/promises');
    return new Uint8Array(await readFile(WAYPOINT_POLICY_URL));
  }
  return new Uint8Array(await (await fetch(WAYPOINT_POLICY_URL)).arrayBuffer());
}

/** Where `goal` (world frame, m) is as seen from the robot's base: x forward, y left. */
export function goalInRobotFrame(
  base: Pick<BaseState, 'position' | 'orientation'>,
  goal: { x: number; y: number },
) {
  const q = base.orientation;
  const yaw = Math.atan2(2 * (q.w * q.z + q.x * q.y), 1 - 2 * (q.y * q.y + q.z * q.z));
  const dx = goal.x - base.position.x;
  const dy = goal.y - base.position.y;
  return { x: Math.cos(yaw) * dx + Math.sin(yaw) * dy, y: -Math.sin(yaw) * dx + Math.cos(yaw) * dy };
}
