/**
 * Loaded before every test file (vitest.config.ts `setupFiles`). `vi.waitFor` waits 1 s by default,
 * which on a shared, loaded machine is a deadline, not a budget: a call without its own timeout
 * waits up to 20 s here (as `expect.poll` does, by the config), still returning the moment its
 * condition holds. Speed is measured by `pnpm bench`, never by how long a test waited.
 */
import { vi } from 'vitest';

const waitFor = vi.waitFor.bind(vi);
const BUDGET_MS = 20_000;

vi.waitFor = ((callback, options) =>
  waitFor(
    callback,
    typeof options === 'number'
      ? options
      : { interval: 50, ...options, timeout: options?.timeout ?? BUDGET_MS },
  )) as typeof vi.waitFor;
