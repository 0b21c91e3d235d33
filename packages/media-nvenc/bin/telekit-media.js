#!/usr/bin/env node
// @ts-check
// telekit-media: the media package's command line. `telekit-media build-worker` gets mediasoup's
// worker for this machine (see the package README, "Install").
import { parseArgs } from 'node:util';
import {
  ensureWorkerBin,
  findWorkerBin,
  MEDIASOUP_VERSION,
  workerCachePath,
  workerProgressLine,
} from '@telekit/media-nvenc';

const help = `telekit-media — @telekit/media-nvenc's command line

usage:
  telekit-media build-worker [--from-source] [--force] [--quiet]
      Finds mediasoup's worker ${MEDIASOUP_VERSION} (MEDIASOUP_WORKER_BIN, mediasoup's own, the cache)
      or gets one into the cache: mediasoup's prebuilt download first, else a build from the
      installed mediasoup sources (3–5 minutes on 2 cores; needs g++ meson ninja-build pkg-config
      libuv1-dev libsrtp2-dev libusrsctp-dev libabsl-dev nlohmann-json3-dev libssl-dev).
      Prints the worker's path.
        --from-source  skip the prebuilt download
        --force        replace the cached worker
        --quiet        say nothing when the worker is there already
  telekit-media worker-path
      Prints the worker's path and how it was found; exits 1 when there is none.

cache: ${workerCachePath()}
`;

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    'from-source': { type: 'boolean', default: false },
    force: { type: 'boolean', default: false },
    quiet: { type: 'boolean', short: 'q', default: false },
    help: { type: 'boolean', short: 'h', default: false },
  },
});

const command = positionals[0];
try {
  if (values.help || !command) {
    console.log(help);
    process.exit(command || values.help ? 0 : 2);
  } else if (command === 'build-worker') {
    if (values.quiet && !values.force && findWorkerBin()) process.exit(0);
    const found = await ensureWorkerBin({
      download: !values['from-source'],
      build: true,
      force: values.force,
      onProgress: workerProgressLine(),
    });
    console.error(`telekit-media: mediasoup worker ${MEDIASOUP_VERSION} ready (${describe(found.source)})`);
    console.log(found.path);
  } else if (command === 'worker-path') {
    const found = findWorkerBin();
    if (!found) {
      console.error(
        `telekit-media: no mediasoup worker ${MEDIASOUP_VERSION} yet: run telekit-media build-worker`,
      );
      process.exit(1);
    }
    console.error(`telekit-media: ${describe(found.source)}`);
    console.log(found.path);
  } else {
    console.error(`telekit-media: unknown command ${command}\n\n${help}`);
    process.exit(2);
  }
} catch (error) {
  console.error(`telekit-media: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
}

/** @param {'env' | 'mediasoup' | 'cache'} source */
function describe(source) {
  return {
    env: 'from MEDIASOUP_WORKER_BIN',
    mediasoup: "mediasoup's own, from its postinstall",
    cache: `cached in ${workerCachePath()}`,
  }[source];
}
