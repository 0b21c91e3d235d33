import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { loadTemplate, type Template, type TemplateName } from './templates.js';

/** The package managers a project is written and installed for. */
export type PackageManager = 'npm' | 'pnpm';

/** Options of {@link createProject}. */
export interface CreateProjectOptions {
  /** Where the project goes: created if missing; must be empty unless `force`. */
  dir: string;
  template: TemplateName;
  /** The package.json name. Default: the directory's name, made a valid package name. */
  name?: string;
  /** Default: the one running this (`npm_config_user_agent`), else npm. */
  packageManager?: PackageManager;
  /** Install the dependencies. Default true. */
  install?: boolean;
  /**
   * After installing, get mediasoup's worker (`telekit-media build-worker`) and install the
   * simulator sidecar (`telekit-sim setup`) where the template uses them. Default true.
   */
  setup?: boolean;
  /**
   * A directory of packed `@telekit/*` tarballs (`pnpm pack`) to take instead of the registry's
   * releases: for trying unreleased builds. Every `@telekit/*` dependency must have one there.
   */
  packages?: string;
  /** Write into a directory that is not empty. Default false. */
  force?: boolean;
  /** Where progress lines go. Default: nowhere. */
  log?: (line: string) => void;
  /** Output of the install and set-up commands: shown (default) or not. */
  output?: 'inherit' | 'ignore';
  /** The template itself, loaded already (default: {@link loadTemplate}). */
  source?: Template;
}

/** What {@link createProject} did, and the commands a user runs next. */
export interface CreatedProject {
  readonly dir: string;
  readonly name: string;
  readonly packageManager: PackageManager;
  /** Dependencies installed (false when asked not to). */
  readonly installed: boolean;
  /** The set-up steps that ran and how they ended. */
  readonly setup: readonly { command: string; ok: boolean }[];
  /** The commands for the README and the last message: install, set up, start, test. */
  readonly commands: { install: string; setup?: string; start: string; test: string };
}

/** The package manager that runs this process (`npm create` / `pnpm create`), by its user agent. */
export function detectPackageManager(
  userAgent: string | undefined = process.env.npm_config_user_agent,
): PackageManager {
  return userAgent?.startsWith('pnpm/') ? 'pnpm' : 'npm';
}

/** A valid npm package name from a directory name: lower case, letters, digits, `-`, `.`, `_`. */
export function packageName(dir: string): string {
  const name = basename(resolve(dir))
    .toLowerCase()
    .replace(/[^a-z0-9._-]+/g, '-')
    .replace(/^[._-]+|[-]+$/g, '');
  return name || 'telekit-app';
}

/** The `telekit-*` commands a project's dependencies need once before the app runs. */
export function setupCommands(dependencies: Readonly<Record<string, string>>): string[] {
  const commands: string[] = [];
  if ('@telekit/media-nvenc' in dependencies) commands.push('telekit-media build-worker --quiet');
  if ('@telekit/sim-genesis' in dependencies) commands.push('telekit-sim setup --quiet');
  return commands;
}

/** `@telekit/x` → the tarball `telekit-x-<version>.tgz` in `dir`, as `pnpm pack` names it. */
function tarballs(dir: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const file of readdirSync(dir)) {
    const m = /^telekit-(.+)-\d+\.\d+\.\d+.*\.tgz$/.exec(file);
    if (m) out.set(`@telekit/${m[1]}`, resolve(dir, file));
  }
  return out;
}

/**
 * The project's package.json: the example's dependencies with `@telekit/*` at this release's range
 * (`^<version>`, or `file:` tarballs with `packages`), `start` and `test` that run outside the
 * repository, the set-up commands before both, and the install settings that keep mediasoup's
 * postinstall download from failing an install where GitHub is out of reach (its worker comes from
 * `telekit-media build-worker` instead).
 */
export function projectManifest(
  template: Template,
  options: { name: string; packages?: string },
): Record<string, unknown> {
  const packed = options.packages ? tarballs(options.packages) : undefined;
  const range = (dep: string, spec: string) => {
    if (!dep.startsWith('@telekit/')) {
      if (spec.startsWith('workspace:'))
        throw new Error(`template ${template.name}: ${dep} is a workspace package`);
      return spec;
    }
    if (!packed) return `^${template.telekitVersion}`;
    const tgz = packed.get(dep);
    if (!tgz) throw new Error(`no tarball of ${dep} in ${options.packages}`);
    return `file:${tgz}`;
  };
  const map = (deps: Readonly<Record<string, string>> | undefined) =>
    Object.fromEntries(Object.entries(deps ?? {}).map(([dep, spec]) => [dep, range(dep, spec)]));
  const dependencies = map(template.manifest.dependencies);
  const optionalDependencies = map(template.manifest.optionalDependencies);
  const devDependencies = sorted({ ...map(template.manifest.devDependencies), ...template.tools });
  const start = (template.manifest.scripts?.start ?? 'tsx src/main.ts').replace(
    /\s*--conditions[= ]source/,
    '',
  );
  const setup = setupCommands(dependencies).join(' && ');
  const usesMedia = '@telekit/media-nvenc' in dependencies;
  return {
    name: options.name,
    version: '0.1.0',
    private: true,
    ...(template.manifest.description ? { description: template.manifest.description } : {}),
    type: 'module',
    scripts: {
      ...(setup ? { setup, prestart: setup, pretest: setup } : {}),
      start,
      test: 'vitest run',
      typecheck: 'tsc --noEmit',
    },
    dependencies: sorted(dependencies),
    ...(Object.keys(optionalDependencies).length ? { optionalDependencies } : {}),
    devDependencies,
    engines: { node: '>=20.19' },
    // npm: an explicit "no" to mediasoup's postinstall (it downloads a prebuilt worker from GitHub and
    // fails the whole install where that is out of reach); pnpm skips it by itself.
    ...(usesMedia
      ? { allowScripts: { mediasoup: false }, pnpm: { ignoredBuiltDependencies: ['mediasoup'] } }
      : {}),
  };
}

function sorted(deps: Readonly<Record<string, string>>): Record<string, string> {
  return Object.fromEntries(Object.entries(deps).sort(([a], [b]) => a.localeCompare(b)));
}

/** The commands a user of `pm` types, for the README and the last message. */
function commandsFor(pm: PackageManager, setup: boolean): CreatedProject['commands'] {
  return {
    install: `${pm} install`,
    ...(setup ? { setup: `${pm} run setup` } : {}),
    start: `${pm} start`,
    test: `${pm} test`,
  };
}

/** Fills a README's `{{…}}` placeholders. */
function fill(text: string, values: Record<string, string>): string {
  return text.replace(/\{\{(\w+)\}\}/g, (whole, key: string) => values[key] ?? whole);
}

function run(command: string, args: string[], cwd: string, output: 'inherit' | 'ignore'): Promise<boolean> {
  return new Promise((resolveRun) => {
    const child = spawn(command, args, { cwd, stdio: ['ignore', output, output] });
    child.on('error', () => resolveRun(false));
    child.on('close', (code) => resolveRun(code === 0));
  });
}

/**
 * Writes a new project from a template, installs it and sets it up: its files (the example's, less
 * the repository's own long tests, plus a README, `.gitignore` and `tsconfig.json`), a package.json
 * from {@link projectManifest}, then `npm install` (or pnpm's), then `telekit-media build-worker`
 * and `telekit-sim setup` where the template uses video and the server simulator. A set-up step that
 * fails does not undo the project: it is reported, and `npm start` runs it again first.
 *
 * @example
 * ```ts
 * import { createProject } from 'create-telekit';
 * const project = await createProject({ dir: 'my-robot', template: 'teleop-sim', log: console.log });
 * console.log(`cd my-robot && ${project.commands.start}`);
 * ```
 */
export async function createProject(options: CreateProjectOptions): Promise<CreatedProject> {
  const log = options.log ?? (() => undefined);
  const dir = resolve(options.dir);
  const name = options.name ?? packageName(dir);
  const pm = options.packageManager ?? detectPackageManager();
  const output = options.output ?? 'inherit';
  if (existsSync(dir) && readdirSync(dir).length > 0 && !options.force)
    throw new Error(`${dir} is not empty: choose another directory, or pass --force to write into it`);
  const template = options.source ?? loadTemplate(options.template);
  const manifest = projectManifest(template, {
    name,
    ...(options.packages ? { packages: options.packages } : {}),
  });
  const setup = setupCommands(manifest.dependencies as Record<string, string>);
  const commands = commandsFor(pm, setup.length > 0);

  log(`writing ${template.name} into ${dir}`);
  const values = {
    name,
    install: commands.install,
    setup: commands.setup ?? '',
    start: commands.start,
    test: commands.test,
    run: pm === 'npm' ? 'npm run' : 'pnpm',
    exec: pm === 'npm' ? 'npx' : 'pnpm exec',
    version: template.telekitVersion,
  };
  for (const [file, content] of template.files) {
    const target = join(dir, file.replace(/(^|\/)_gitignore$/, '$1.gitignore'));
    mkdirSync(dirname(target), { recursive: true });
    writeFileSync(target, file.endsWith('README.md') ? fill(content.toString('utf8'), values) : content);
  }
  writeFileSync(join(dir, 'package.json'), `${JSON.stringify(manifest, null, 2)}\n`);

  let installed = false;
  const steps: { command: string; ok: boolean }[] = [];
  if (options.install ?? true) {
    log(`${commands.install}`);
    installed = await run(pm, ['install'], dir, output);
    if (!installed) throw new Error(`${commands.install} failed in ${dir}`);
    if (options.setup ?? true) {
      for (const command of setup) {
        log(command.replace(' --quiet', ''));
        const [bin, ...args] = command.replace(' --quiet', '').split(' ');
        const ok = await run(join(dir, 'node_modules', '.bin', bin!), args, dir, output);
        steps.push({ command: command.replace(' --quiet', ''), ok });
      }
    }
  }
  return { dir, name, packageManager: pm, installed, setup: steps, commands };
}
