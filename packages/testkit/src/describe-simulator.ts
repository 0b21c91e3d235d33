import type { Simulator } from '@telekit/core';
import { describe } from 'vitest';
import { cameraCases } from './simulator-camera-cases.js';
import { commandCases } from './simulator-command-cases.js';
import { type DescribeSimulatorOptions, simulatorKit } from './simulator-kit.js';
import { lifecycleCases } from './simulator-lifecycle-cases.js';
import { baseCases, jointCases } from './simulator-motion-cases.js';
import { determinismCases, sceneCases, stateCases } from './simulator-scene-cases.js';

export { pixelStdDev } from './simulator-camera-cases.js';
export type { DescribeSimulatorOptions } from './simulator-kit.js';

/**
 * The conformance kit for {@link Simulator}. Cases that need a capability the simulator does not
 * declare are skipped and say so.
 *
 * Commands: every `act` that carries a header gets exactly one report on `actuations$` with its
 * fate — `applied` once a step used it, `superseded` when a newer one replaced it before a step,
 * `expired` when it was past its deadline (`stamp + (ttl ?? DEFAULT_TTL_MS)` on `systemClock`), and
 * an expired command never acts.
 *
 * The cases, in the order they run: the scene and stepping (`simulator-scene-cases.ts`), driving
 * the base (`simulator-motion-cases.ts`), command fates (`simulator-command-cases.ts`), joints,
 * reset and snapshots, the camera (`simulator-camera-cases.ts`), determinism, and last the
 * lifecycle (`simulator-lifecycle-cases.ts`: the kill case, then close).
 *
 * @example
 * ```ts
 * import { describeSimulator } from '@telekit/testkit';
 * import { kinematicSim } from '@telekit/testkit/fakes';
 * describeSimulator('kinematic', async () => kinematicSim(), { scene: { id: 'diff-drive' }, joint: { name: 'pan', target: 0.5 } });
 * ```
 */
export function describeSimulator(
  name: string,
  makeSimulator: () => Promise<Simulator>,
  options: DescribeSimulatorOptions,
): void {
  const suite = `Simulator conformance: ${name}`;
  const kit = simulatorKit(suite, makeSimulator, options);
  describe(suite, () => {
    sceneCases(kit);
    baseCases(kit);
    commandCases(kit);
    jointCases(kit);
    stateCases(kit);
    cameraCases(kit);
    determinismCases(kit);
    lifecycleCases(kit);
  });
}
