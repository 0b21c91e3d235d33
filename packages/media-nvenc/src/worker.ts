import { spawn, spawnSync } from 'node:child_process';
import {
  chmodSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { createRequire } from 'node:module';
import { arch, homedir, platform, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { TelekitError } from '@telekit/core';
import type { types } from 'mediasoup';

const require = createRequire(import.meta.url);
const mediasoupPackage = require.resolve('mediasoup/package.json');
const mediasoupJson = require('mediasoup/package.json') as { version: string; repository?: { url?: string } };

/** The mediasoup version this package is built and tested with (see the README for why 3.12.16). */
export const MEDIASOUP_VERSION: string = mediasoupJson.version;

/** Where a mediasoup worker binary was found, and which rule found it (see {@link findWorkerBin}). */
export interface WorkerLocation {
  readonly path: string;
  /**
   * `env`: `$MEDIASOUP_WORKER_BIN`; `mediasoup`: the one mediasoup's own postinstall downloaded or
   * built; `cache`: the one `telekit-media build-worker` downloaded or built for this version.
   */
  readonly source: 'env' | 'mediasoup' | 'cache';
}

/** What a worker download or build is doing, for a progress line. */
export interface WorkerProgress {
  readonly phase: 'download' | 'build';
  /** Build steps done and in all (ninja's `[done/total]`), once the build is compiling. */
  readonly done?: number;
  readonly total?: number;
  /** The build's own output line, or what the download is doing. */
  readonly line: string;
}

/** Options of {@link ensureWorkerBin}. */
export interface EnsureWorkerOptions {
  /**
   * Try mediasoup's prebuilt worker from its GitHub release first (the same file its postinstall
   * fetches; `$MEDIASOUP_WORKER_PREBUILT_DOWNLOAD_BASE_URL` changes where from). Default true,
   * unless `$TELEKIT_MEDIA_WORKER_BUILD` is `off`.
   */
  download?: boolean;
  /**
   * Build the worker from the installed mediasoup sources when there is none (3–5 minutes on 2 cores,
   * once per version). Default true, unless `$TELEKIT_MEDIA_WORKER_BUILD` is `off`.
   */
  build?: boolean;
  /** Build again even where a worker is cached (the cached one is removed first). Default false. */
  force?: boolean;
  /** Called as the download or build goes on. */
  onProgress?: (progress: WorkerProgress) => void;
}

const WORKER_BIN = 'mediasoup-worker';

/** The mediasoup package's directory (its `worker/` sources are what a build compiles). */
export function mediasoupDir(): string {
  return dirname(mediasoupPackage);
}

/**
 * The cache path of the worker for a mediasoup version:
 * `${XDG_CACHE_HOME:-~/.cache}/telekit/mediasoup-worker-<version>/mediasoup-worker`. Shared by every
 * project on the machine and by the repository's own setup.
 */
export function workerCachePath(version: string = MEDIASOUP_VERSION): string {
  const cache = process.env.XDG_CACHE_HOME || join(homedir(), '.cache');
  return join(cache, 'telekit', `mediasoup-worker-${version}`, WORKER_BIN);
}

/**
 * Finds a worker binary without downloading or building one, in this order:
 * 1. `$MEDIASOUP_WORKER_BIN` when set: an explicit choice wins, as in mediasoup itself (it must
 *    name a file; otherwise this throws `E_MEDIA_WORKER` rather than pick another binary);
 * 2. mediasoup's own `worker/out/Release/mediasoup-worker`, where its postinstall download worked;
 * 3. the cache of {@link workerCachePath} (`telekit-media build-worker`, the repository's setup).
 * Returns `undefined` when there is none.
 */
export function findWorkerBin(): WorkerLocation | undefined {
  const fromEnv = process.env.MEDIASOUP_WORKER_BIN;
  if (fromEnv) {
    if (!existsSync(fromEnv))
      throw new TelekitError(
        'E_MEDIA_WORKER',
        'MEDIASOUP_WORKER_BIN points at no file: unset it to let telekit-media find or build the worker',
        { context: { path: fromEnv } },
      );
    return { path: fromEnv, source: 'env' };
  }
  const own = join(mediasoupDir(), 'worker', 'out', 'Release', WORKER_BIN);
  if (existsSync(own)) return { path: own, source: 'mediasoup' };
  const cached = workerCachePath();
  if (existsSync(cached)) return { path: cached, source: 'cache' };
  return undefined;
}

/**
 * Where the mediasoup worker binary is ({@link findWorkerBin}'s order). Throws `E_MEDIA_WORKER`,
 * saying how to get one, when there is none; {@link ensureWorkerBin} gets one instead.
 */
export function resolveWorkerBin(): string {
  const found = findWorkerBin();
  if (found) return found.path;
  throw noWorker();
}

function noWorker(): TelekitError {
  return new TelekitError(
    'E_MEDIA_WORKER',
    `no mediasoup worker ${MEDIASOUP_VERSION}: run npx telekit-media build-worker (it downloads mediasoup's prebuilt worker or builds one from source), or set MEDIASOUP_WORKER_BIN`,
    { context: { looked: workerCachePath() } },
  );
}

/**
 * Finds the worker ({@link findWorkerBin}), or gets one into the cache: mediasoup's prebuilt
 * download first, then a build from the installed mediasoup sources with the build script this
 * package ships (`scripts/build-mediasoup-worker.sh`, against the system's libraries). What
 * `npx telekit-media build-worker` and the first {@link createWorker} run.
 *
 * @example
 * ```ts
 * import { ensureWorkerBin } from '@telekit/media-nvenc';
 * const { path, source } = await ensureWorkerBin({ onProgress: (p) => console.error(p.line) });
 * ```
 */
export async function ensureWorkerBin(options: EnsureWorkerOptions = {}): Promise<WorkerLocation> {
  if (options.force) rmSync(workerCachePath(), { force: true });
  const found = findWorkerBin();
  if (found) return found;
  const auto = process.env.TELEKIT_MEDIA_WORKER_BUILD !== 'off';
  if (options.download ?? auto) {
    const path = await downloadPrebuiltWorker(options.onProgress);
    if (path) return { path, source: 'cache' };
  }
  if (!(options.build ?? auto)) throw noWorker();
  return { path: await buildWorker(options.onProgress), source: 'cache' };
}

/** The file name of mediasoup's prebuilt worker for this machine, as its postinstall names it. */
function prebuiltName(): string {
  return `mediasoup-worker-${MEDIASOUP_VERSION}-${platform()}-${arch()}.tgz`;
}

/**
 * Downloads mediasoup's prebuilt worker into the cache, checks that it runs here (it exits 41 when
 * started without its environment, as mediasoup's own postinstall checks) and returns its path;
 * `undefined` when it cannot be fetched or does not run (then a build follows).
 */
async function downloadPrebuiltWorker(onProgress?: (p: WorkerProgress) => void): Promise<string | undefined> {
  const base =
    process.env.MEDIASOUP_WORKER_PREBUILT_DOWNLOAD_BASE_URL ||
    `${(mediasoupJson.repository?.url ?? 'https://github.com/versatica/mediasoup').replace(/^git\+/, '').replace(/\.git$/, '')}/releases/download`;
  const url = `${base}/${MEDIASOUP_VERSION}/${prebuiltName()}`;
  onProgress?.({ phase: 'download', line: `fetching mediasoup's prebuilt worker: ${url}` });
  const work = mkdtempSync(join(tmpdir(), 'telekit-worker-'));
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(60_000) });
    if (!response.ok) {
      onProgress?.({
        phase: 'download',
        line: `no prebuilt worker (${response.status} ${response.statusText})`,
      });
      return undefined;
    }
    writeFileSync(join(work, 'worker.tgz'), Buffer.from(await response.arrayBuffer()));
    const untar = spawnSync('tar', ['-xzf', 'worker.tgz'], { cwd: work, stdio: 'ignore' });
    const bin = join(work, WORKER_BIN);
    if (untar.status !== 0 || !existsSync(bin)) {
      onProgress?.({ phase: 'download', line: 'the prebuilt worker archive holds no worker' });
      return undefined;
    }
    chmodSync(bin, 0o755);
    const probe = spawnSync(bin, [], { env: {}, stdio: 'ignore', timeout: 10_000 });
    if (probe.status !== 41) {
      onProgress?.({
        phase: 'download',
        line: `the prebuilt worker does not run here (exit ${probe.status})`,
      });
      return undefined;
    }
    const target = workerCachePath();
    mkdirSync(dirname(target), { recursive: true });
    // Same file system as the cache? Not necessarily: copy beside it, then rename (atomic).
    const beside = `${target}.${process.pid}.tmp`;
    copyFileSync(bin, beside);
    chmodSync(beside, 0o755);
    renameSync(beside, target);
    return target;
  } catch (error) {
    const reason = (error as { cause?: { code?: string } }).cause?.code ?? (error as Error).message;
    onProgress?.({ phase: 'download', line: `the prebuilt worker cannot be fetched (${reason})` });
    return undefined;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/** The build script this package ships (beside `src/` and `dist/`). */
function buildScript(): string {
  return join(dirname(fileURLToPath(import.meta.url)), '..', 'scripts', 'build-mediasoup-worker.sh');
}

/**
 * Builds the worker from the installed mediasoup sources into the cache and returns its path
 * (reuses a cached one). Rejects with `E_MEDIA_WORKER` carrying the script's last output lines —
 * which name the Debian packages to install when the compiler or a library is missing.
 */
export function buildWorker(onProgress?: (p: WorkerProgress) => void): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn('bash', [buildScript(), mediasoupDir()], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    const tail: string[] = [];
    let pending = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      out += chunk;
    });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      pending += chunk;
      const lines = pending.split('\n');
      pending = lines.pop() ?? '';
      for (const line of lines) {
        tail.push(line);
        if (tail.length > 20) tail.shift();
        onProgress?.({ phase: 'build', ...parseNinjaProgress(line), line });
      }
    });
    child.on('error', (error) =>
      reject(new TelekitError('E_MEDIA_WORKER', 'the worker build could not start', { cause: error })),
    );
    child.on('close', (code) => {
      const path = out.trim().split('\n').pop() ?? '';
      if (code === 0 && existsSync(path)) return resolve(path);
      reject(
        new TelekitError('E_MEDIA_WORKER', `the mediasoup worker build failed:\n${tail.join('\n')}`, {
          context: { exit: code ?? 'signal', script: buildScript() },
        }),
      );
    });
  });
}

/** ninja's `[done/total] …` status, where a line has one. */
export function parseNinjaProgress(line: string): { done?: number; total?: number } {
  const m = /^\[(\d+)\/(\d+)\]/.exec(line);
  return m ? { done: Number(m[1]), total: Number(m[2]) } : {};
}

/**
 * A progress reporter for a download or build on a stream (stderr by default): on a terminal one
 * line rewritten in place, elsewhere a line every tenth of the build.
 */
export function workerProgressLine(
  stream: NodeJS.WritableStream & { isTTY?: boolean } = process.stderr,
): (p: WorkerProgress) => void {
  let lastTenth = -1;
  let building = false;
  return (p) => {
    if (p.phase === 'download') {
      stream.write(`telekit-media: ${p.line}\n`);
      return;
    }
    if (!building) {
      building = true;
      stream.write(
        `telekit-media: building mediasoup's worker ${MEDIASOUP_VERSION} from its sources (once per version, 3–5 minutes on 2 cores) into ${dirname(workerCachePath())}\n`,
      );
    }
    if (p.done === undefined || p.total === undefined) return;
    const percent = Math.floor((100 * p.done) / p.total);
    if (stream.isTTY) {
      stream.write(`\r  compiling ${p.done}/${p.total} (${percent} %)${p.done === p.total ? '\n' : ''}`);
    } else if (Math.floor(percent / 10) > lastTenth) {
      lastTenth = Math.floor(percent / 10);
      stream.write(`  compiling ${p.done}/${p.total} (${percent} %)\n`);
    }
  };
}

/**
 * Loads mediasoup with the worker binary of {@link ensureWorkerBin} (mediasoup reads
 * `MEDIASOUP_WORKER_BIN` when it loads). The first call on a machine without a worker downloads or
 * builds one, with a progress line on stderr.
 */
export async function loadMediasoup(): Promise<typeof import('mediasoup')> {
  const { path } = await ensureWorkerBin({ onProgress: workerProgressLine() });
  process.env.MEDIASOUP_WORKER_BIN = path;
  return import('mediasoup');
}

/** Creates a worker (one per core is typical), with logs kept to warnings. */
export async function createWorker(settings: types.WorkerSettings = {}): Promise<types.Worker> {
  const mediasoup = await loadMediasoup();
  return mediasoup.createWorker({ logLevel: 'warn', rtcMinPort: 40000, rtcMaxPort: 49999, ...settings });
}
