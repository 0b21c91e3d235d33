import { readFileSync } from 'node:fs';

const CLOCK_TICK_MS = 10; // Linux's USER_HZ is 100 on every architecture Node runs on

/** CPU time (user + system) a process has used so far, ms; undefined when it is gone or /proc is missing. */
export function processCpuMs(pid: number | undefined): number | undefined {
  if (!pid) return undefined;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) * CLOCK_TICK_MS;
  } catch {
    return undefined;
  }
}

/**
 * A CPU rate between two samples, in cores (1 = one core busy all the time): `sample(ms)` with a
 * process's cumulative CPU time. A process that changed (a restarted encoder: its time starts from
 * zero) or went away reads 0 for that interval.
 */
export class CpuRate {
  #last: { at: number; ms: number; key: unknown } | undefined;
  #rate = 0;

  /** The rate over the last interval, cores. */
  get cores(): number {
    return this.#rate;
  }

  sample(at: number, ms: number | undefined, key?: unknown): number {
    const last = this.#last;
    if (ms === undefined) {
      this.#last = undefined;
      this.#rate = 0;
      return 0;
    }
    this.#rate = last && last.key === key && at > last.at ? Math.max(0, ms - last.ms) / (at - last.at) : 0;
    this.#last = { at, ms, key };
    return this.#rate;
  }
}
