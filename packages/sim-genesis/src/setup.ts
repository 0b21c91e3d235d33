/**
 * `telekit-sim setup`: installs the Python sidecar this package ships (`python/`) into a virtualenv
 * beside the app (`.venv`), where {@link findPython} finds it. Its steps, in order:
 * 1. the app's directory: `--dir`, else the nearest directory at or above the cwd with a
 *    `package.json`;
 * 2. `.venv` there, created with the first Python ≥ 3.10 found (`--python`, `python3`,
 *    `python3.13` … `python3.10`) when it does not exist;
 * 3. a stamp (`.venv/.telekit-sim.json`: the npm package's version, the extras, a digest of the
 *    shipped sources): when it matches and the sidecar imports, nothing is done;
 * 4. otherwise the sources are copied to a temporary directory (the package's own directory may be
 *    read-only, and pip builds in place), their version set to this package's, and
 *    `pip install <copy>[mujoco]` (`[mujoco,genesis]` with `--genesis`) runs in the venv;
 * 5. the sidecar is imported once to check it, and the stamp is written.
 * An upgrade of the npm package changes the version in the stamp, so the next setup reinstalls.
 *
 * @module
 */
import { type SpawnSyncReturns, spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  cpSync,
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { TelekitError } from '@telekit/core';
import { findPython } from './sidecar-simulator.js';

/** Options of {@link setupSidecar}. */
export interface SidecarSetupOptions {
  /** The app's directory; the venv is `<dir>/.venv`. Default: the nearest one with a package.json. */
  dir?: string;
  /** The Python that creates the venv. Default: the first ≥ 3.10 of python3, python3.13 … python3.10. */
  python?: string;
  /** Install the Genesis backend too (`genesis-world` and PyTorch: gigabytes). Default false. */
  genesis?: boolean;
  /** Reinstall even when the stamp says the sidecar is up to date. Default false. */
  force?: boolean;
  /** pip's own output: shown (`inherit`, the command line's default) or kept quiet. Default `quiet`. */
  output?: 'inherit' | 'quiet';
  /** Where progress lines go. Default: nowhere. */
  log?: (line: string) => void;
}

/** What {@link setupSidecar} did. */
export interface SidecarSetupResult {
  /** The venv's Python, which runs the sidecar. */
  readonly python: string;
  readonly venv: string;
  /** False when the stamp matched and nothing was installed. */
  readonly installed: boolean;
  /** The sidecar's version: this package's. */
  readonly version: string;
  readonly extras: readonly string[];
}

/** The stamp written into the venv after an install. */
interface Stamp {
  version: string;
  extras: string[];
  digest: string;
}

const packageRoot = join(dirname(fileURLToPath(import.meta.url)), '..');
const STAMP = '.telekit-sim.json';
const MIN_PYTHON: readonly [number, number] = [3, 10];
const SKIP = new Set(['tests', '__pycache__', 'build', 'dist']);

/** This package's version (the sidecar installs as the same version). */
function packageVersion(): string {
  return (JSON.parse(readFileSync(join(packageRoot, 'package.json'), 'utf8')) as { version: string }).version;
}

/** The shipped sidecar's files, relative to `python/`, without tests and build leftovers. */
function sidecarFiles(dir: string, base = dir, out: string[] = []): string[] {
  for (const name of readdirSync(dir).sort()) {
    if (SKIP.has(name) || name.endsWith('.egg-info') || name.endsWith('.pyc')) continue;
    const path = join(dir, name);
    if (statSync(path).isDirectory()) sidecarFiles(path, base, out);
    else out.push(relative(base, path));
  }
  return out;
}

/** A digest of the shipped sources: a reinstall follows any change, even at the same version. */
function sourceDigest(python: string): string {
  const hash = createHash('sha256');
  for (const file of sidecarFiles(python))
    hash
      .update(file)
      .update('\0')
      .update(readFileSync(join(python, file)));
  return hash.digest('hex').slice(0, 16);
}

/** The nearest directory at or above `from` that holds a package.json (else `from`). */
export function appDir(from: string = process.cwd()): string {
  for (let dir = resolve(from); ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'package.json'))) return dir;
    if (dirname(dir) === dir) return resolve(from);
  }
}

/** `[major, minor]` of a Python executable, or undefined when it does not run. */
function pythonVersion(python: string): [number, number] | undefined {
  const r = spawnSync(python, ['-c', 'import sys; print(sys.version_info[0], sys.version_info[1])'], {
    encoding: 'utf8',
  });
  if (r.status !== 0) return undefined;
  const [major, minor] = r.stdout.trim().split(' ').map(Number);
  return major === undefined || minor === undefined ? undefined : [major, minor];
}

const atLeast = (v: [number, number]) =>
  v[0] > MIN_PYTHON[0] || (v[0] === MIN_PYTHON[0] && v[1] >= MIN_PYTHON[1]);

/** The first Python ≥ 3.10 among the candidates; throws naming what was found. */
function basePython(wanted?: string): string {
  const candidates = wanted ? [wanted] : ['python3', 'python3.13', 'python3.12', 'python3.11', 'python3.10'];
  const seen: string[] = [];
  for (const candidate of candidates) {
    const v = pythonVersion(candidate);
    if (v && atLeast(v)) return candidate;
    seen.push(`${candidate}: ${v ? v.join('.') : 'not found'}`);
  }
  throw new TelekitError(
    'E_SIDECAR_START',
    `the simulator sidecar needs Python ≥ ${MIN_PYTHON.join('.')} (${seen.join(', ')}): install one (Debian: apt-get install python3 python3-venv) or pass --python`,
    { operation: 'setup' },
  );
}

function readStamp(venv: string): Stamp | undefined {
  try {
    return JSON.parse(readFileSync(join(venv, STAMP), 'utf8')) as Stamp;
  } catch {
    return undefined;
  }
}

function check(r: SpawnSyncReturns<string>, what: string): void {
  if (r.status === 0) return;
  throw new TelekitError(
    'E_SIDECAR_START',
    `${what} failed: ${(r.stderr || r.stdout || String(r.error ?? '')).trim().split('\n').slice(-5).join(' | ')}`,
    { operation: 'setup' },
  );
}

/** Runs pip in the venv, its output shown or collected; rejects with its last lines. */
function pip(python: string, args: string[], output: 'inherit' | 'quiet'): Promise<void> {
  return new Promise((resolvePip, reject) => {
    const child = spawn(
      python,
      ['-m', 'pip', ...args, '--disable-pip-version-check', '--progress-bar', 'off'],
      {
        stdio: [
          'ignore',
          output === 'inherit' ? 'inherit' : 'pipe',
          output === 'inherit' ? 'inherit' : 'pipe',
        ],
      },
    );
    let tail = '';
    const keep = (chunk: Buffer) => {
      tail = (tail + chunk.toString()).slice(-4000);
    };
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    child.on('error', reject);
    child.on('close', (code) =>
      code === 0
        ? resolvePip()
        : reject(
            new TelekitError(
              'E_SIDECAR_START',
              `pip install of the simulator sidecar failed (exit ${code}): ${tail.trim().split('\n').slice(-5).join(' | ')}`,
              { operation: 'setup' },
            ),
          ),
    );
  });
}

/**
 * Installs the simulator sidecar into `.venv` beside the app, pinned to this package's version;
 * does nothing when it is there already (see the module's steps). What `npx telekit-sim setup` runs.
 *
 * @example
 * ```sh
 * npx telekit-sim setup            # in the app's directory; --genesis for the Genesis backend
 * ```
 */
export async function setupSidecar(options: SidecarSetupOptions = {}): Promise<SidecarSetupResult> {
  const log = options.log ?? (() => undefined);
  const dir = options.dir ? resolve(options.dir) : appDir();
  const venv = join(dir, '.venv');
  const python = join(venv, 'bin', 'python');
  const version = packageVersion();
  const extras = options.genesis ? ['mujoco', 'genesis'] : ['mujoco'];
  const sources = join(packageRoot, 'python');
  const stamp: Stamp = { version, extras, digest: sourceDigest(sources) };

  if (existsSync(python)) {
    const v = pythonVersion(python);
    if (!v || !atLeast(v))
      throw new TelekitError(
        'E_SIDECAR_START',
        `${venv} has Python ${v ? v.join('.') : '(broken)'}; the sidecar needs ≥ ${MIN_PYTHON.join('.')}: remove the directory and run setup again`,
        { operation: 'setup' },
      );
  } else {
    const base = basePython(options.python);
    log(`creating ${venv} with ${base}`);
    check(
      spawnSync(base, ['-m', 'venv', venv], { encoding: 'utf8' }),
      `${base} -m venv (Debian: apt-get install python3-venv)`,
    );
  }

  const old = readStamp(venv);
  const same =
    old?.version === stamp.version &&
    old.digest === stamp.digest &&
    old.extras.join() === stamp.extras.join();
  const imports = () =>
    spawnSync(python, ['-c', `import telekit_sim${extras.includes('mujoco') ? ', mujoco' : ''}`], {
      encoding: 'utf8',
    });
  if (same && !options.force && imports().status === 0)
    return { python, venv, installed: false, version, extras };

  log(
    `installing the simulator sidecar ${version} [${extras.join(',')}] into ${venv}${old ? ` (was ${old.version} [${old.extras.join(',')}])` : ''}`,
  );
  const copy = mkdtempSync(join(tmpdir(), 'telekit-sim-'));
  try {
    for (const file of sidecarFiles(sources)) cpSync(join(sources, file), join(copy, file));
    // Pinned: the Python distribution carries the npm package's version, whatever pyproject says.
    const pyproject = join(copy, 'pyproject.toml');
    writeFileSync(
      pyproject,
      readFileSync(pyproject, 'utf8').replace(/^version\s*=\s*".*"$/m, `version = "${version}"`),
    );
    await pip(python, ['install', `${copy}[${extras.join(',')}]`], options.output ?? 'quiet');
  } finally {
    rmSync(copy, { recursive: true, force: true });
  }
  check(imports(), 'importing the installed sidecar');
  writeFileSync(join(venv, STAMP), `${JSON.stringify(stamp)}\n`);
  log(`the simulator sidecar ${version} is installed: ${python}`);
  return { python, venv, installed: true, version, extras };
}

const help = `telekit-sim — @telekit/sim-genesis's command line

usage:
  telekit-sim setup [--genesis] [--force] [--quiet] [--dir <app dir>] [--python <python3>]
      Creates .venv beside the app (the nearest directory with a package.json) with Python ≥ 3.10
      and installs the simulator sidecar this package ships, pinned to its version, with the MuJoCo
      backend; again only when the package changed (an upgrade) or with --force.
        --genesis   add the Genesis backend (genesis-world and PyTorch: several GB; for a GPU host)
        --quiet     say nothing when the sidecar is up to date
  telekit-sim python
      Prints the Python the simulator plugin will run: $TELEKIT_PYTHON, else the nearest
      .venv/bin/python above the current directory or the package, else python3.
`;

/** The `telekit-sim` command line; resolves to the exit code. */
export async function runSimCli(argv: readonly string[]): Promise<number> {
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(argv);
  } catch (error) {
    console.error(`telekit-sim: ${(error as Error).message}\n\n${help}`);
    return 2;
  }
  const { values, positionals } = parsed;
  const command = positionals[0];
  if (values.help || !command) {
    console.log(help);
    return command || values.help ? 0 : 2;
  }
  if (command === 'python') {
    console.log(findPython());
    return 0;
  }
  if (command !== 'setup') {
    console.error(`telekit-sim: unknown command ${command}\n\n${help}`);
    return 2;
  }
  try {
    const result = await setupSidecar({
      ...(values.dir ? { dir: values.dir } : {}),
      ...(values.python ? { python: values.python } : {}),
      genesis: values.genesis,
      force: values.force,
      output: 'inherit',
      log: (line) => console.error(`telekit-sim: ${line}`),
    });
    if (!result.installed && !values.quiet)
      console.error(
        `telekit-sim: the simulator sidecar ${result.version} [${result.extras.join(',')}] is up to date in ${result.venv}`,
      );
    if (process.env.TELEKIT_PYTHON && resolve(process.env.TELEKIT_PYTHON) !== result.python)
      console.error(
        `telekit-sim: note: TELEKIT_PYTHON is set (${process.env.TELEKIT_PYTHON}), so the plugin runs that Python, not ${result.python}`,
      );
    return 0;
  } catch (error) {
    console.error(`telekit-sim: ${(error as Error).message}`);
    return 1;
  }
}

function parse(argv: readonly string[]) {
  return parseArgs({
    args: [...argv],
    allowPositionals: true,
    options: {
      genesis: { type: 'boolean', default: false },
      force: { type: 'boolean', default: false },
      quiet: { type: 'boolean', short: 'q', default: false },
      dir: { type: 'string' },
      python: { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
}
