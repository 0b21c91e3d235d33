import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

/** What one template is: the example it comes from and what of it a project leaves out. */
export interface TemplateInfo {
  /** The example in the repository's `examples/` it is copied from. */
  readonly example: string;
  /** One line for the prompt. */
  readonly hint: string;
  /** Files of the example a project does not get (the repository's own soak and chaos tests). */
  readonly exclude: readonly RegExp[];
  /**
   * Text that names the repository's layout, replaced in the project's copy. A rewrite that finds
   * nothing fails the pack, unless `optional` (help texts).
   */
  readonly rewrites?: readonly Rewrite[];
}

/** One replacement in one file of a template. */
export interface Rewrite {
  readonly file: string;
  readonly from: string;
  readonly to: string;
  readonly optional?: boolean;
}

/**
 * The templates, each from one example of the repository (`examples/*`), copied into this package
 * when it is packed and read from the examples themselves inside the repository.
 */
export const TEMPLATES = {
  minimal: {
    example: 'minimal-robot',
    hint: 'an in-process robot and a scripted operator: no browser, no video, no Python',
    exclude: [],
  },
  'teleop-sim': {
    example: 'teleop-sim',
    hint: 'drive a simulated robot from a browser: MuJoCo sidecar, video, every widget',
    // The repository's own long tests (soak, chaos) and its browser suites (the page, its layouts
    // and their checks, the server-mode view, replay); the project gets src/check.test.ts, the
    // headless drive of `--check`.
    exclude: [/^src\/(e2e|chaos|replay|server-view)\.test\.ts$/, /^src\/page-checks\.ts$/, /^src\/soak/],
    rewrites: [
      {
        file: 'src/main.ts',
        from: 'usage: pnpm demo [options]          (or: bash scripts/demo.sh [options])',
        to: 'usage: npm start -- [options]',
        optional: true,
      },
    ],
  },
  'ros-robot': {
    example: 'ros-robot',
    hint: 'drive a ROS 2 robot: ROS transport, video from a camera topic, the widgets',
    exclude: [],
    rewrites: [
      // The launch file starts the app from the repository with pnpm; a project starts its own.
      {
        file: 'launch/telekit_ros_robot.launch.py',
        from: 'os.path.join(HERE, "..", "..", "..")',
        to: 'os.path.join(HERE, "..")',
      },
      {
        file: 'launch/telekit_ros_robot.launch.py',
        from: '"pnpm", "--dir", c["telekit_dir"], "--filter", "@telekit/example-ros-robot", "start", "--",',
        to: '"npm", "--prefix", c["telekit_dir"], "start", "--",',
      },
      {
        file: 'launch/telekit_ros_robot.launch.py',
        from: 'telekit_dir (the repository;\ndefault: two levels above this file)',
        to: 'telekit_dir (the app;\ndefault: the directory above this file)',
        optional: true,
      },
      {
        file: 'src/main.ts',
        from: 'pnpm --filter @telekit/example-ros-robot start',
        to: 'npm start',
        optional: true,
      },
    ],
  },
  'browser-sim': {
    example: 'browser-sim',
    hint: 'the simulator in the page (MuJoCo WebAssembly) with the server as authority',
    // The repository's checks against native MuJoCo (its .venv, its scene files, osmesa): they
    // test the repository's packages, not a project's app (its browser suite stays).
    exclude: [
      /^src\/(silhouette|mujoco-scene)\.test\.ts$/,
      /^src\/silhouette-page\.ts$/,
      /^src\/mujoco-reference\.py$/,
    ],
    rewrites: [
      {
        file: 'src/main.ts',
        from: 'pnpm --filter @telekit/example-browser-sim start',
        to: 'npm start',
        optional: true,
      },
    ],
  },
} as const satisfies Record<string, TemplateInfo>;

/** A template's name: `minimal`, `teleop-sim`, `ros-robot` or `browser-sim`. */
export type TemplateName = keyof typeof TEMPLATES;

/** The template names, in the order the prompt offers them. */
export const TEMPLATE_NAMES = Object.keys(TEMPLATES) as TemplateName[];

/** An example's package.json, as it is in the repository. */
export interface ExampleManifest {
  readonly description?: string;
  readonly scripts?: Readonly<Record<string, string>>;
  readonly dependencies?: Readonly<Record<string, string>>;
  readonly optionalDependencies?: Readonly<Record<string, string>>;
  readonly devDependencies?: Readonly<Record<string, string>>;
}

/** A template ready to write: its files and what its package.json is made from. */
export interface Template {
  readonly name: TemplateName;
  /** Files by path in the project, `/`-separated (`_gitignore` becomes `.gitignore` when written). */
  readonly files: ReadonlyMap<string, Buffer>;
  readonly manifest: ExampleManifest;
  /** The version of every `@telekit/*` package (one version for all: they release together). */
  readonly telekitVersion: string;
  /** Ranges of the tools every project gets (tsx, vitest, typescript, @types/node). */
  readonly tools: Readonly<Record<string, string>>;
}

/** The packed form's metadata, `templates/<name>/template.json`. */
interface TemplateMeta {
  manifest: ExampleManifest;
  telekitVersion: string;
  tools: Record<string, string>;
}

/** This package's directory (`src/..` or `dist/..`). */
export const packageDir: string = join(dirname(fileURLToPath(import.meta.url)), '..');

const TOOLS = ['tsx', 'vitest', 'typescript', '@types/node'] as const;

/** Files under `dir`, relative and `/`-separated, without what is never part of a template. */
function walk(dir: string, base = dir, out: string[] = []): string[] {
  for (const name of readdirSync(dir).sort()) {
    if (name === 'node_modules' || name === 'test-results' || name === 'dist') continue;
    const path = join(dir, name);
    if (statSync(path).isDirectory()) walk(path, base, out);
    else out.push(relative(base, path).split(sep).join('/'));
  }
  return out;
}

/** The example's files that git tracks (scratch files never ship), or every file without git. */
function exampleFiles(repoRoot: string, exampleDir: string): string[] {
  const git = spawnSync('git', ['-C', repoRoot, 'ls-files', '-z', '--', relative(repoRoot, exampleDir)], {
    encoding: 'utf8',
  });
  if (git.status !== 0 || !git.stdout) return walk(exampleDir);
  const prefix = `${relative(repoRoot, exampleDir).split(sep).join('/')}/`;
  return git.stdout
    .split('\0')
    .filter((f) => f.startsWith(prefix) && existsSync(join(repoRoot, f)))
    .map((f) => f.slice(prefix.length))
    .filter((f) => !f.startsWith('node_modules/') && !f.startsWith('test-results/'));
}

/**
 * Paths written for the repository's layout, made right for a project of its own: the examples'
 * tests keep screenshots in the repository's `test-results/`, three levels up.
 */
function rewrite(name: TemplateName, path: string, content: Buffer): Buffer {
  const rewrites = (TEMPLATES[name] as TemplateInfo).rewrites?.filter((r) => r.file === path) ?? [];
  if (!/\.(ts|js|mjs|json|md|py)$/.test(path)) return content;
  let text = content.toString('utf8').replaceAll("'../../../test-results/'", "'../test-results/'");
  for (const r of rewrites) {
    if (!text.includes(r.from)) {
      if (r.optional) continue;
      throw new Error(`template ${name}: ${path} no longer says ${JSON.stringify(r.from)}: update TEMPLATES`);
    }
    text = text.replaceAll(r.from, r.to);
  }
  return Buffer.from(text);
}

/**
 * A template made from the repository: the example's files less its `exclude` list, its README and
 * package.json (a project gets its own), then this package's overlays (`overlays/_common`,
 * `overlays/<name>`) on top.
 */
export function templateFromRepository(
  name: TemplateName,
  repoRoot: string = join(packageDir, '..', '..'),
): Template {
  const info: TemplateInfo = TEMPLATES[name];
  const exampleDir = join(repoRoot, 'examples', info.example);
  if (!existsSync(join(exampleDir, 'package.json')))
    throw new Error(`template ${name}: no example at ${exampleDir}`);
  const files = new Map<string, Buffer>();
  for (const file of exampleFiles(repoRoot, exampleDir)) {
    if (file === 'package.json' || file === 'README.md' || info.exclude.some((re) => re.test(file))) continue;
    files.set(file, rewrite(name, file, readFileSync(join(exampleDir, file))));
  }
  for (const overlay of ['_common', name]) {
    const dir = join(packageDir, 'overlays', overlay);
    if (!existsSync(dir)) continue;
    for (const file of walk(dir)) files.set(file, readFileSync(join(dir, file)));
  }
  const manifest = JSON.parse(readFileSync(join(exampleDir, 'package.json'), 'utf8')) as ExampleManifest;
  const root = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as {
    devDependencies: Record<string, string>;
  };
  const tools: Record<string, string> = {};
  for (const tool of TOOLS) {
    const spec = manifest.devDependencies?.[tool] ?? root.devDependencies[tool];
    if (!spec) throw new Error(`template ${name}: no version of ${tool} in the repository's package.json`);
    tools[tool] = /^\d/.test(spec) ? `^${spec}` : spec;
  }
  const self = JSON.parse(readFileSync(join(packageDir, 'package.json'), 'utf8')) as { version: string };
  return { name, files, manifest, telekitVersion: self.version, tools };
}

/** A template as `pnpm pack` stored it in `templates/<name>/` (see `pack-templates.ts`). */
export function packedTemplate(name: TemplateName, templatesDir: string): Template {
  const dir = join(templatesDir, name);
  const meta = JSON.parse(readFileSync(join(dir, 'template.json'), 'utf8')) as TemplateMeta;
  const files = new Map<string, Buffer>();
  for (const file of walk(join(dir, 'files'))) files.set(file, readFileSync(join(dir, 'files', file)));
  return { name, files, ...meta };
}

/** The metadata written beside a packed template's files. */
export function templateMeta(template: Template): string {
  const meta: TemplateMeta = {
    manifest: template.manifest,
    telekitVersion: template.telekitVersion,
    tools: { ...template.tools },
  };
  return `${JSON.stringify(meta, null, 2)}\n`;
}

/**
 * The template by name: the packed copy when this package was installed from a tarball, else made
 * from the repository's example (when running inside the repository).
 */
export function loadTemplate(name: TemplateName): Template {
  if (!(name in TEMPLATES))
    throw new Error(`unknown template ${name}: expected one of ${TEMPLATE_NAMES.join(', ')}`);
  // Inside the repository (this package's sources beside it) the examples are the truth, even where
  // a `pnpm pack` left a packed copy behind; an installed package has no sources, only the copy.
  const packed = join(packageDir, 'templates');
  const inRepository = existsSync(join(packageDir, 'src', 'templates.ts'));
  if (!inRepository && existsSync(join(packed, name, 'template.json'))) return packedTemplate(name, packed);
  return templateFromRepository(name);
}
