import { EmptyError, firstValueFrom, type Observable, throwError, timeout } from 'rxjs';

/** Tests of a kit to skip, and why. The reason shows in the test's title. */
export interface SkipEntry {
  readonly reason: string;
  readonly tests: readonly string[];
}

/** Looks up why a test is skipped: from `skip`, or from a missing capability. */
export function skipReason(
  title: string,
  skip: readonly SkipEntry[] | undefined,
  missingCapability?: string | false,
): string | undefined {
  const entry = skip?.find((s) => s.tests.includes(title));
  if (entry) return entry.reason;
  if (missingCapability) return `capability ${missingCapability} not declared`;
  return undefined;
}

/**
 * Why a suite that needs something absent (ROS 2, a GPU, Genesis) cannot run here, or `undefined`
 * when it can. Use it as `describe.skipIf(reason)(\`… (skipped: ${reason})\`)` so the report says why.
 */
export function missingRequirement(
  requirements: readonly { ok: boolean; need: string }[],
): string | undefined {
  const missing = requirements.filter((r) => !r.ok).map((r) => r.need);
  return missing.length === 0 ? undefined : `needs ${missing.join(', ')}`;
}

/**
 * What a kit throws when something it waited for did not happen: the kit, the case, what was
 * expected and what happened instead. Never a bare timeout.
 */
export class KitExpectationError extends Error {
  constructor(where: string, expected: string, happened: string, options?: { cause?: unknown }) {
    super(`${where}: expected ${expected}, but ${happened}`, options);
    this.name = 'KitExpectationError';
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Polls `probe` until it returns a value (not `undefined`, `null` or `false`) and returns it.
 * `probe` may also throw (an `expect` that does not hold yet); it is retried until `timeoutMs`,
 * then the kit fails with what was `expected` and what `happened` (default: the probe's last error).
 */
export async function eventually<T>(
  where: string,
  wait: {
    expected: string;
    probe: () => T | undefined | null | false;
    happened?: () => string;
    timeoutMs: number;
    intervalMs?: number;
  },
): Promise<T> {
  const end = performance.now() + wait.timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = wait.probe();
      if (value !== undefined && value !== null && value !== false) return value;
      last = undefined;
    } catch (error) {
      last = error;
    }
    if (performance.now() >= end) break;
    await sleep(wait.intervalMs ?? 10);
  }
  const happened =
    wait.happened?.() ??
    (last instanceof Error ? `the last check said: ${last.message}` : 'it did not happen');
  throw new KitExpectationError(where, `${wait.expected} within ${wait.timeoutMs} ms`, happened, {
    cause: last,
  });
}

/**
 * Awaits `promise` for at most `timeoutMs`; fails with what was `expected` when it does not settle
 * in time, and with its error when it rejects.
 */
export async function within<T>(
  where: string,
  expected: string,
  promise: Promise<T>,
  timeoutMs: number,
  happened: () => string = () => 'it did not settle',
): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new KitExpectationError(where, `${expected} within ${timeoutMs} ms`, happened())),
      timeoutMs,
    );
  });
  try {
    return await Promise.race([
      promise.catch((error: unknown) => {
        const why = error instanceof Error ? error.message : String(error);
        throw new KitExpectationError(where, expected, `it failed: ${why}`, { cause: error });
      }),
      late,
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * The first value of `source` (that `source` lets through: filter it first), within `timeoutMs`;
 * fails with what was `expected` and what `happened` when none comes in time or the stream ends.
 */
export async function firstWithin<T>(
  where: string,
  expected: string,
  source: Observable<T>,
  timeoutMs: number,
  happened: () => string = () => 'none came',
): Promise<T> {
  const late = () =>
    throwError(() => new KitExpectationError(where, `${expected} within ${timeoutMs} ms`, happened()));
  try {
    return await firstValueFrom(source.pipe(timeout({ first: timeoutMs, with: late })));
  } catch (error) {
    if (error instanceof KitExpectationError) throw error;
    if (error instanceof EmptyError)
      throw new KitExpectationError(where, expected, `the stream completed first (${happened()})`);
    const why = error instanceof Error ? error.message : String(error);
    throw new KitExpectationError(where, expected, `the stream failed: ${why}`, { cause: error });
  }
}
