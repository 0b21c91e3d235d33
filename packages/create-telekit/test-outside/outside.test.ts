/**
 * Telekit as a new user gets it, outside this repository: every package built and packed, then a
 * fresh app made by create-telekit's own tarball from the `teleop-sim` template, installed with npm
 * from those tarballs and the npm registry into a directory outside the workspace with an empty
 * `HOME` and an empty npm cache, set up by its own commands (mediasoup's worker, the simulator
 * sidecar's venv), and its headless test run: the robot moves and video arrives. Then the same for
 * the `minimal` template with pnpm, and checks that nothing of the repository was used and nothing
 * was left running.
 *
 * What is not cold, on purpose, and why:
 * - pip's cache (`PIP_CACHE_DIR`, the user's own) and the machine's pip settings (`PIP_*`): the
 *   sidecar's wheels (MuJoCo, NumPy) are the same every run; the venv itself is new each time.
 * - mediasoup's worker, where this machine has one already (the repository's setup builds it): the
 *   app's `XDG_CACHE_HOME` points at a new directory holding a copy of just that binary, so the
 *   app's `telekit-media build-worker` finds it in its cache — the path a second project on the
 *   same machine takes. Everything else about the worker (finding it, mediasoup loading it) is the
 *   app's own. Why not the cold build by default: it compiles 167 C++ files on the suite's two
 *   cores, 3–5 minutes on an idle machine but 20–23 minutes measured on this shared machine (load
 *   10–20), which would take `pnpm test` far past its 20 minutes: the whole step took 32 minutes
 *   cold, 6.5–11 minutes with the copy. `TELEKIT_OUTSIDE_WORKER=build` runs the real cold
 *   path (the worker built from the installed mediasoup's sources into the empty HOME, as a new
 *   user's set-up does); it is also what happens where the machine has no worker to copy.
 *
 * Printed as it goes: each step, its output, and how long it took.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  realpathSync,
  rmSync,
} from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { dirname, join, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const repo = resolve(fileURLToPath(new URL('../../..', import.meta.url)));
const scratch = realpathSync(mkdtempSync(join(tmpdir(), 'telekit-outside-')));
const home = join(scratch, 'home');
const npmCache = join(scratch, 'npm-cache');
const packs = join(scratch, 'packs');
const work = join(scratch, 'work');
for (const dir of [home, npmCache, packs, work]) mkdirSync(dir, { recursive: true });

/** This machine's worker, where the repository's setup put it (@telekit/media-nvenc's cache rule). */
function machineWorker(): { path: string; version: string } {
  const media = JSON.parse(readFileSync(join(repo, 'packages/media-nvenc/package.json'), 'utf8')) as {
    dependencies: Record<string, string>;
  };
  const version = media.dependencies.mediasoup ?? '';
  const cache = process.env.XDG_CACHE_HOME || join(homedir(), '.cache');
  const path =
    process.env.MEDIASOUP_WORKER_BIN ||
    join(cache, 'telekit', `mediasoup-worker-${version}`, 'mediasoup-worker');
  return { path, version };
}
const workerMode =
  process.env.TELEKIT_OUTSIDE_WORKER === 'build' || process.env.TELEKIT_OUTSIDE_WORKER === 'copy'
    ? process.env.TELEKIT_OUTSIDE_WORKER
    : existsSync(machineWorker().path)
      ? 'copy'
      : 'build';
const started = Date.now();
const figures: [string, number][] = [];
const minutes = (ms: number) => `${(ms / 60_000).toFixed(1)} min`;
const say = (line: string) => console.log(`[outside ${minutes(Date.now() - started)}] ${line}`);

/**
 * The environment of everything run in the fresh project: this process's, less whatever names the
 * repository or its tools (pnpm's and vitest's variables, `node_modules/.bin` of the workspace on
 * PATH, Telekit's and mediasoup's settings), with an empty HOME and npm cache.
 */
function freshEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (value === undefined) continue;
    if (
      /^(npm_|pnpm_|PNPM|VITEST|TELEKIT_|MEDIASOUP_|XDG_|TSX_|INIT_CWD$|FORCE_COLOR$|NODE_OPTIONS$|NODE_ENV$|TEST$)/i.test(
        key,
      )
    )
      continue;
    env[key] = value;
  }
  env.PATH = (process.env.PATH ?? '')
    .split(':')
    .filter((p) => p && !resolve(p).startsWith(repo + sep) && resolve(p) !== repo)
    .join(':');
  return {
    ...env,
    HOME: home,
    npm_config_cache: npmCache,
    npm_config_update_notifier: 'false',
    npm_config_fund: 'false',
    npm_config_audit: 'false',
    PIP_CACHE_DIR: process.env.PIP_CACHE_DIR ?? join(homedir(), '.cache', 'pip'),
    CI: '1',
    ...extra,
  };
}

const running = new Set<ChildProcess>();

/** Runs a command, printing its output line by line; resolves with its exit code and output's tail. */
function run(
  label: string,
  command: string,
  args: readonly string[],
  options: { cwd: string; env: NodeJS.ProcessEnv },
): Promise<{ code: number | null; tail: string }> {
  say(`${label}: ${command} ${args.join(' ')}  (in ${options.cwd})`);
  const t0 = Date.now();
  return new Promise((done) => {
    const child = spawn(command, args, { ...options, stdio: ['ignore', 'pipe', 'pipe'] });
    running.add(child);
    let tail = '';
    const lines = (stream: NodeJS.ReadableStream) => {
      let pending = '';
      stream.setEncoding('utf8');
      stream.on('data', (chunk: string) => {
        pending += chunk;
        const parts = pending.split('\n');
        pending = parts.pop() ?? '';
        for (const line of parts) {
          console.log(`  | ${line}`);
          tail = `${tail}${line}\n`.slice(-6_000);
        }
      });
    };
    lines(child.stdout);
    lines(child.stderr);
    child.on('error', (error) => {
      running.delete(child);
      done({ code: -1, tail: `${tail}${error.message}` });
    });
    child.on('close', (code) => {
      running.delete(child);
      const ms = Date.now() - t0;
      figures.push([label, ms]);
      say(`${label}: exit ${code} after ${minutes(ms)}`);
      done({ code, tail });
    });
  });
}

/** Processes (other than this one) whose command line or working directory is under `dir`. */
function processesUnder(dir: string): { pid: number; cmd: string }[] {
  const found: { pid: number; cmd: string }[] = [];
  for (const entry of readdirSync('/proc')) {
    const pid = Number(entry);
    if (!Number.isInteger(pid) || pid === process.pid) continue;
    try {
      const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ').trim();
      let cwd = '';
      try {
        cwd = readlinkSync(`/proc/${pid}/cwd`);
      } catch {}
      if (cmd.includes(dir) || cwd.startsWith(dir)) found.push({ pid, cmd });
    } catch {}
  }
  return found;
}

/** `<status>: <title>` of every test in a vitest JSON report. */
function vitestResults(file: string): string[] {
  const results = JSON.parse(readFileSync(file, 'utf8')) as {
    testResults: { assertionResults: { title: string; status: string }[] }[];
  };
  return results.testResults.flatMap((f) => f.assertionResults.map((a) => `${a.status}: ${a.title}`));
}

const state: { createTelekit?: string; app?: string; env?: NodeJS.ProcessEnv } = {};

afterAll(() => {
  for (const child of running) child.kill('SIGKILL');
  for (const { pid } of processesUnder(scratch)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {}
  }
  say(`figures: ${figures.map(([label, ms]) => `${label} ${minutes(ms)}`).join(', ')}`);
  say(`total: ${minutes(Date.now() - started)}`);
  if (process.env.TELEKIT_OUTSIDE_KEEP) say(`kept ${scratch}`);
  else rmSync(scratch, { recursive: true, force: true });
}, 10 * 60_000);

// Each step needs the one before; a failed step fails the rest at once with its reason.
describe.sequential('Telekit outside the repository', () => {
  it('builds and packs every package', { timeout: 30 * 60_000 }, async () => {
    const env = { ...process.env };
    const built = await run('build', 'pnpm', ['-r', '--filter', './packages/*', 'run', 'build'], {
      cwd: repo,
      env,
    });
    expect(built.code, built.tail).toBe(0);
    const packed = await run(
      'pack',
      'pnpm',
      ['-r', '--filter', './packages/*', 'exec', 'pnpm', 'pack', '--pack-destination', packs],
      { cwd: repo, env },
    );
    expect(packed.code, packed.tail).toBe(0);
    const members = readdirSync(join(repo, 'packages')).filter((d) =>
      existsSync(join(repo, 'packages', d, 'package.json')),
    );
    const tarballs = readdirSync(packs).filter((f) => f.endsWith('.tgz'));
    say(`${tarballs.length} tarballs: ${tarballs.join(' ')}`);
    expect(tarballs).toHaveLength(members.length);
    // What `.pnpmfile.cjs` (beforePacking) and the packages' `files` promise of every tarball: exact
    // versions between first-party packages, no workspace: range, no tests or Python build leftovers.
    const versions = new Map<string, string>();
    const manifests = tarballs.map((file) => {
      const json = spawnSync('tar', ['-xzOf', join(packs, file), 'package/package.json'], {
        encoding: 'utf8',
      });
      const pkg = JSON.parse(json.stdout) as { name: string; version: string } & Record<string, unknown>;
      versions.set(pkg.name, pkg.version);
      return { file, pkg };
    });
    for (const { file, pkg } of manifests) {
      expect(JSON.stringify(pkg), file).not.toContain('workspace:');
      for (const field of ['dependencies', 'peerDependencies', 'optionalDependencies']) {
        for (const [dep, spec] of Object.entries((pkg[field] ?? {}) as Record<string, string>))
          if (versions.has(dep))
            expect(`${file} ${field} ${dep} ${spec}`).toBe(`${file} ${field} ${dep} ${versions.get(dep)}`);
      }
      const listed = spawnSync('tar', ['-tzf', join(packs, file)], { encoding: 'utf8' }).stdout.split('\n');
      // (create-telekit's templates carry the projects' own tests, on purpose)
      const stray = listed.filter(
        (f) =>
          !f.startsWith('package/templates/') &&
          /\.test(-d)?\.ts$|\.egg-info\/|__pycache__|\.pyc$|\/tests?\//.test(f),
      );
      expect({ file, stray }).toEqual({ file, stray: [] });
    }
    const tool = tarballs.find((f) => f.startsWith('create-telekit-'));
    expect(tool).toBeDefined();
    state.createTelekit = join(packs, tool!);
  });

  it('makes a teleop-sim app with create-telekit from its tarball: npm, empty HOME and caches', {
    timeout: 60 * 60_000,
  }, async () => {
    expect(state.createTelekit, 'the packing step failed').toBeDefined();
    const extra: Record<string, string> = {};
    if (workerMode === 'copy') {
      // A copy of just the worker binary, where telekit-media's cache rule looks (see the top).
      const { path: mine, version } = machineWorker();
      expect(existsSync(mine), `no worker on this machine to copy (${mine})`).toBe(true);
      const target = join(scratch, 'xdg-cache', 'telekit', `mediasoup-worker-${version}`, 'mediasoup-worker');
      mkdirSync(dirname(target), { recursive: true });
      copyFileSync(mine, target);
      extra.XDG_CACHE_HOME = join(scratch, 'xdg-cache');
      say(
        `worker: a copy of ${mine} in the app's XDG_CACHE_HOME (not a cold build: see the top of this file)`,
      );
    } else {
      say('worker: none; the set-up builds it from mediasoup’s sources into the empty HOME (the cold path)');
    }
    state.env = freshEnv(extra);
    for (const tool of ['node', 'npm', 'pnpm'])
      say(`${tool} ${spawnSync(tool, ['--version'], { env: state.env, encoding: 'utf8' }).stdout.trim()}`);
    const created = await run(
      'create (install and set up)',
      'npx',
      [
        '--yes',
        '--package',
        state.createTelekit!,
        '--',
        'create-telekit',
        'my-robot',
        '--template',
        'teleop-sim',
        '--packages',
        packs,
        '--yes',
      ],
      { cwd: work, env: state.env },
    );
    expect(created.code, created.tail).toBe(0);
    state.app = join(work, 'my-robot');
    const manifest = readFileSync(join(state.app, 'package.json'), 'utf8');
    expect(manifest).not.toContain('workspace:');
    expect(manifest).not.toContain(repo);
  });

  it("runs the app's own headless test: the robot moves and video arrives", {
    timeout: 30 * 60_000,
  }, async () => {
    expect(state.app, 'the app was not made').toBeDefined();
    const report = join(scratch, 'vitest.json');
    const tested = await run(
      'npm test',
      'npm',
      ['test', '--', '--reporter=default', '--reporter=json', `--outputFile.json=${report}`],
      {
        cwd: state.app!,
        env: state.env!,
      },
    );
    expect(tested.code, tested.tail).toBe(0);
    const titles = vitestResults(report);
    expect(titles).toContain('passed: the robot moves and video arrives');
    expect(titles.filter((t) => !t.startsWith('passed'))).toEqual([]);
  });

  it('used nothing of the repository: packages, sidecar and worker all live in the fresh project', () => {
    expect(state.app, 'the app was not made').toBeDefined();
    const app = state.app!;
    const scoped = join(app, 'node_modules', '@telekit');
    const installed = readdirSync(scoped).map((d) => realpathSync(join(scoped, d)));
    expect(installed.length).toBeGreaterThanOrEqual(7);
    for (const dir of installed) expect(dir.startsWith(join(app, 'node_modules'))).toBe(true);
    const sidecar = spawnSync(
      join(app, '.venv', 'bin', 'python'),
      [
        '-c',
        'import telekit_sim, importlib.metadata as m; print(telekit_sim.__file__); print(m.version("telekit-sim"))',
      ],
      { cwd: app, env: state.env!, encoding: 'utf8' },
    );
    expect(sidecar.status, sidecar.stderr).toBe(0);
    const [moduleFile, version] = sidecar.stdout.trim().split('\n');
    expect(realpathSync(moduleFile!).startsWith(join(app, '.venv'))).toBe(true);
    const simPackage = JSON.parse(readFileSync(join(scoped, 'sim-genesis', 'package.json'), 'utf8')) as {
      version: string;
    };
    expect(version).toBe(simPackage.version);
    const worker = spawnSync(join(app, 'node_modules', '.bin', 'telekit-media'), ['worker-path'], {
      cwd: app,
      env: state.env!,
      encoding: 'utf8',
    });
    expect(worker.status, worker.stderr).toBe(0);
    say(`worker: ${worker.stdout.trim()} (${worker.stderr.trim()})`);
    expect(worker.stdout.trim().startsWith(scratch)).toBe(true);
  });

  it('a minimal app with pnpm: installs from the tarballs and passes its test', {
    timeout: 30 * 60_000,
  }, async () => {
    expect(state.createTelekit && state.env, 'the earlier steps failed').toBeTruthy();
    const created = await run(
      'create minimal (pnpm)',
      'npx',
      [
        '--yes',
        '--package',
        state.createTelekit!,
        '--',
        'create-telekit',
        'mini',
        '--template',
        'minimal',
        '--pm',
        'pnpm',
        '--packages',
        packs,
      ],
      { cwd: work, env: state.env! },
    );
    expect(created.code, created.tail).toBe(0);
    const mini = join(work, 'mini');
    expect(existsSync(join(mini, 'pnpm-lock.yaml'))).toBe(true);
    const report = join(scratch, 'vitest-mini.json');
    const tested = await run(
      'pnpm test (minimal)',
      'pnpm',
      ['test', '--reporter=default', '--reporter=json', `--outputFile.json=${report}`],
      { cwd: mini, env: state.env! },
    );
    expect(tested.code, tested.tail).toBe(0);
    const titles = vitestResults(report);
    expect(titles).toContain('passed: drives the robot and trips every safety rule, in the scripted order');
    expect(titles.filter((t) => !t.startsWith('passed'))).toEqual([]);
  });

  it('left nothing running', () => {
    const left = processesUnder(scratch);
    expect(left).toEqual([]);
  });
});
