/**
 * Whether this browser can run the scene in time, as `BrowserSimulation` checks before it starts
 * in `auto` mode: the memory WebAssembly needs, and how much faster than real time the engine steps
 * the scene.
 *
 * @module
 */
import type { WasmSimulator } from './wasm-simulator.js';

/** Why the page lacks the memory the simulation needs, or `undefined` when it has it. */
export function memoryShortfall(minMB: number): string | undefined {
  const device = (globalThis.navigator as { deviceMemory?: number } | undefined)?.deviceMemory;
  if (device !== undefined && device * 1024 < minMB * 4)
    return `not enough memory: this device reports ${device} GiB`;
  try {
    new WebAssembly.Memory({ initial: Math.ceil(minMB * 16) });
    return undefined;
  } catch {
    return `not enough memory: cannot reserve ${minMB} MiB for WebAssembly`;
  }
}

/** Steps the scene for a moment, restores it, and returns how many times faster than real time it ran. */
export async function realtimeFactor(sim: WasmSimulator, timestep: number): Promise<number> {
  const before = await sim.snapshot();
  const steps = Math.max(50, Math.round(0.5 / timestep));
  const t0 = performance.now();
  await sim.step(steps);
  const seconds = (performance.now() - t0) / 1000;
  await sim.restore(before);
  return (steps * timestep) / Math.max(seconds, 1e-6);
}
