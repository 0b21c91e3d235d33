import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  createProject,
  detectPackageManager,
  type PackageManager,
  packageName,
  projectManifest,
  setupCommands,
} from './create-project.js';
import { TEMPLATE_NAMES, type TemplateName, templateFromRepository } from './templates.js';

const scratch = mkdtempSync(join(tmpdir(), 'create-telekit-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));
let n = 0;
const freshDir = (label: string) => join(scratch, `${label}-${n++}`);

const readJson = (file: string) => JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;

/** Every file under `dir`, relative. */
function filesUnder(dir: string, base = dir): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((d) =>
    d.isDirectory() ? filesUnder(join(dir, d.name), base) : [join(dir, d.name).slice(base.length + 1)],
  );
}

describe('packageName', () => {
  it.each([
    ['my-robot', 'my-robot'],
    ['/some/where/My Robot', 'my-robot'],
    ['./Robot_2.0', 'robot_2.0'],
    ['__x--', 'x'],
    ['@@@', 'telekit-app'],
  ])('%s → %s', (dir, name) => {
    expect(packageName(dir)).toBe(name);
  });
});

describe('detectPackageManager', () => {
  it('reads the user agent of npm create / pnpm create', () => {
    expect(detectPackageManager('pnpm/10.34.9 npm/? node/v20.20.2 linux x64')).toBe('pnpm');
    expect(detectPackageManager('npm/11.19.1 node/v20.20.2 linux x64 workspaces/false')).toBe('npm');
    expect(detectPackageManager('')).toBe('npm');
  });
});

describe('setupCommands', () => {
  it('gets the worker where there is video and the sidecar where there is the server simulator', () => {
    expect(setupCommands({ '@telekit/core': '1' })).toEqual([]);
    expect(setupCommands({ '@telekit/media-nvenc': '1', '@telekit/sim-genesis': '1' })).toEqual([
      'telekit-media build-worker --quiet',
      'telekit-sim setup --quiet',
    ]);
  });
});

describe.each(TEMPLATE_NAMES)('projectManifest of %s', (name: TemplateName) => {
  const template = templateFromRepository(name);
  const manifest = projectManifest(template, { name: 'my-robot' });
  const all = {
    ...(manifest.dependencies as object),
    ...(manifest.devDependencies as object),
    ...((manifest.optionalDependencies as object | undefined) ?? {}),
  } as Record<string, string>;

  it('has real ranges: this release for @telekit/*, the example’s for the rest, no workspace:', () => {
    expect(JSON.stringify(manifest)).not.toContain('workspace:');
    for (const [dep, spec] of Object.entries(all)) {
      if (dep.startsWith('@telekit/')) expect(spec).toBe(`^${template.telekitVersion}`);
      else expect(spec).toMatch(/^[\^~]?\d|^>=\d/);
    }
    expect(Object.keys(all)).toEqual(expect.arrayContaining(['tsx', 'vitest', 'typescript', '@types/node']));
  });

  it('is a private ESM app whose start and test run outside the repository', () => {
    const scripts = manifest.scripts as Record<string, string>;
    expect(manifest).toMatchObject({ name: 'my-robot', private: true, type: 'module' });
    expect(scripts.test).toBe('vitest run');
    expect(scripts.start).toMatch(/^tsx src\/main\.ts$/);
    expect(scripts.typecheck).toBe('tsc --noEmit');
  });

  it('sets up the worker and the sidecar before start and test where the template needs them', () => {
    const scripts = manifest.scripts as Record<string, string>;
    const setup = setupCommands(manifest.dependencies as Record<string, string>);
    if (setup.length === 0) {
      expect(scripts.prestart).toBeUndefined();
      return;
    }
    expect(scripts.setup).toBe(setup.join(' && '));
    expect(scripts.prestart).toBe(scripts.setup);
    expect(scripts.pretest).toBe(scripts.setup);
  });

  it('keeps npm and pnpm from running mediasoup’s postinstall download where there is video', () => {
    if (!('@telekit/media-nvenc' in all)) {
      expect(manifest.allowScripts).toBeUndefined();
      return;
    }
    expect(manifest.allowScripts).toEqual({ mediasoup: false });
    expect(manifest.pnpm).toEqual({ ignoredBuiltDependencies: ['mediasoup'] });
  });
});

describe('projectManifest with packed tarballs', () => {
  const template = templateFromRepository('minimal');
  const packs = freshDir('packs');
  mkdirSync(packs);

  it('takes every @telekit package from its tarball', () => {
    for (const file of [
      'telekit-core-0.1.0.tgz',
      'telekit-testkit-0.1.0.tgz',
      'telekit-sim-browser-0.1.0.tgz',
    ])
      writeFileSync(join(packs, file), '');
    const manifest = projectManifest(template, { name: 'x', packages: packs });
    expect(manifest.dependencies).toMatchObject({
      '@telekit/core': `file:${join(packs, 'telekit-core-0.1.0.tgz')}`,
      '@telekit/testkit': `file:${join(packs, 'telekit-testkit-0.1.0.tgz')}`,
      rxjs: template.manifest.dependencies?.rxjs,
    });
  });

  it('names the package that has no tarball', () => {
    // teleop-sim needs more than the three packed above: the first one missing is named.
    const make = () => projectManifest(templateFromRepository('teleop-sim'), { name: 'x', packages: packs });
    expect(make).toThrow(/^no tarball of @telekit\/[a-z-]+ in /);
    const named = (() => {
      try {
        make();
      } catch (error) {
        return /@telekit\/([a-z-]+)/.exec((error as Error).message)?.[1];
      }
    })();
    expect(['core', 'testkit', 'sim-browser']).not.toContain(named);
    expect(() => make()).toThrow(`no tarball of @telekit/${named} in ${packs}`);
  });
});

describe.each(
  TEMPLATE_NAMES.flatMap((template) => (['npm', 'pnpm'] as PackageManager[]).map((pm) => ({ template, pm }))),
)('createProject $template for $pm, without installing', ({ template, pm }) => {
  const dir = freshDir(`${template}-${pm}`);
  const created = createProject({ dir, template, packageManager: pm, install: false });

  it('writes the template’s files, its package.json and a .gitignore', async () => {
    const project = await created;
    expect(project).toMatchObject({
      dir,
      name: packageName(dir),
      packageManager: pm,
      installed: false,
      setup: [],
    });
    const source = templateFromRepository(template);
    const expected = [...source.files.keys()].map((f) => f.replace(/_gitignore$/, '.gitignore'));
    expect(filesUnder(dir).sort()).toEqual([...expected, 'package.json'].sort());
    expect(readJson(join(dir, 'package.json'))).toEqual(projectManifest(source, { name: project.name }));
    expect(readFileSync(join(dir, 'src', 'main.ts'))).toEqual(source.files.get('src/main.ts'));
  });

  it(`has a README of its own with ${pm}'s commands filled in`, async () => {
    const project = await created;
    const readme = readFileSync(join(dir, 'README.md'), 'utf8');
    expect(readme.startsWith(`# ${project.name}\n`)).toBe(true);
    expect(readme).not.toMatch(/\{\{\w+\}\}/);
    expect(readme).toContain(`${pm} test`);
    expect(readme).toContain(`${pm} start`);
    expect(project.commands).toMatchObject({
      install: `${pm} install`,
      start: `${pm} start`,
      test: `${pm} test`,
    });
    if (project.commands.setup) expect(readme).toContain(project.commands.setup);
  });
});

describe('createProject', () => {
  it('refuses a directory that is not empty, and writes into it when forced', async () => {
    const dir = freshDir('busy');
    mkdirSync(dir);
    writeFileSync(join(dir, 'notes.txt'), 'mine');
    await expect(createProject({ dir, template: 'minimal', install: false })).rejects.toThrow(
      `${dir} is not empty: choose another directory, or pass --force to write into it`,
    );
    expect(readdirSync(dir)).toEqual(['notes.txt']);
    await createProject({ dir, template: 'minimal', install: false, force: true, name: 'given' });
    expect(readFileSync(join(dir, 'notes.txt'), 'utf8')).toBe('mine');
    expect(readJson(join(dir, 'package.json')).name).toBe('given');
  });

  it('reports each step on its log', async () => {
    const lines: string[] = [];
    const dir = freshDir('logged');
    await createProject({ dir, template: 'minimal', install: false, log: (l) => lines.push(l) });
    expect(lines).toEqual([`writing minimal into ${dir}`]);
  });

  it('fails with the install command when the install fails, and leaves the files', async () => {
    const dir = freshDir('no-install');
    // One dependency, a tarball that does not exist: npm fails at once, without the network.
    const source = templateFromRepository('minimal');
    const broken = { ...source, manifest: { dependencies: { missing: 'file:./nope.tgz' } }, tools: {} };
    await expect(
      createProject({ dir, template: 'minimal', source: broken, packageManager: 'npm', output: 'ignore' }),
    ).rejects.toThrow(`npm install failed in ${dir}`);
    expect(existsSync(join(dir, 'package.json'))).toBe(true);
  }, 120_000);
});
