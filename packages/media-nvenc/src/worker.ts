import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { TelekitError } from '@telekit/core';
import type { types } from 'mediasoup';

const require = createRequire(import.meta.url);

/** The mediasoup version this package is built and tested with (see the README for why 3.12.16). */
export const MEDIASOUP_VERSION: string = (require('mediasoup/package.json') as { version: string }).version;

/**
 * Where the mediasoup worker binary is: `$MEDIASOUP_WORKER_BIN`, else the one
 * `scripts/build-mediasoup-worker.sh` cached for this version. Throws, saying how to build it, when
 * there is none.
 */
export function resolveWorkerBin(): string {
  const fromEnv = process.env.MEDIASOUP_WORKER_BIN;
  if (fromEnv) {
    if (!existsSync(fromEnv))
      throw new TelekitError('E_MEDIA_WORKER', 'MEDIASOUP_WORKER_BIN points at no file', {
        context: { path: fromEnv },
      });
    return fromEnv;
  }
  const cache = process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache');
  const bin = join(cache, 'telekit', `mediasoup-worker-${MEDIASOUP_VERSION}`, 'mediasoup-worker');
  if (existsSync(bin)) return bin;
  throw new TelekitError(
    'E_MEDIA_WORKER',
    'no mediasoup worker binary: run bash scripts/setup.sh (or scripts/build-mediasoup-worker.sh)',
    {
      context: { looked: bin },
    },
  );
}

/** Loads mediasoup with the resolved worker binary (mediasoup reads the variable when it loads). */
export async function loadMediasoup(): Promise<typeof import('mediasoup')> {
  process.env.MEDIASOUP_WORKER_BIN = resolveWorkerBin();
  return import('mediasoup');
}

/** Creates a worker (one per core is typical), with logs kept to warnings. */
export async function createWorker(settings: types.WorkerSettings = {}): Promise<types.Worker> {
  const mediasoup = await loadMediasoup();
  return mediasoup.createWorker({ logLevel: 'warn', rtcMinPort: 40000, rtcMaxPort: 49999, ...settings });
}
