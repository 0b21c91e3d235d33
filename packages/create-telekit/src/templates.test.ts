import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { packTemplates } from './pack-templates.js';
import {
  loadTemplate,
  packedTemplate,
  TEMPLATE_NAMES,
  TEMPLATES,
  templateFromRepository,
} from './templates.js';

// What names the repository's own layout and must not reach a project: a workspace range, the
// `source` condition, pnpm's filter or the repository's scripts, a path out of the project.
const REPOSITORY_ONLY = [
  'workspace:',
  '--conditions',
  'pnpm --filter',
  'pnpm demo',
  'scripts/demo.sh',
  '../../../',
  '"..", "..", ".."',
];

const scratch = mkdtempSync(join(tmpdir(), 'create-telekit-templates-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));
// Every template as `pnpm pack` stores it, read back below.
const packedCount = packTemplates(join(scratch, 'templates'));

describe.each(TEMPLATE_NAMES)('the %s template', (name) => {
  const template = templateFromRepository(name);
  const text = (file: string) => template.files.get(file)?.toString('utf8');

  it('has its own README, a tsconfig, a .gitignore and a test', () => {
    expect(text('README.md')).toMatch(/^# \{\{name\}\}\n/);
    expect(text('README.md')?.replace(/\s+/g, ' ')).toContain(`from the \`${name}\` template`);
    expect(JSON.parse(text('tsconfig.json') ?? '')).toMatchObject({ compilerOptions: { strict: true } });
    expect(text('_gitignore')).toContain('node_modules/');
    expect([...template.files.keys()].some((f) => /^src\/.*\.test\.ts$/.test(f))).toBe(true);
  });

  it('leaves out what belongs to the repository', () => {
    expect(template.files.has('package.json')).toBe(false);
    for (const [file, content] of template.files) {
      if (file === 'README.md') continue; // its own, written for npm and pnpm users
      const found = REPOSITORY_ONLY.filter((s) => content.toString('utf8').includes(s));
      expect({ file, found }).toEqual({ file, found: [] });
    }
  });

  it('takes the example’s dependencies and one version for every @telekit package', () => {
    const deps = Object.keys(template.manifest.dependencies ?? {});
    expect(deps).toContain('@telekit/core');
    expect(template.telekitVersion).toMatch(/^\d+\.\d+\.\d+/);
    expect(Object.keys(template.tools).sort()).toEqual(['@types/node', 'tsx', 'typescript', 'vitest']);
    for (const spec of Object.values(template.tools)) expect(spec).toMatch(/^[\^~]?\d/);
  });

  it('reads back the same from its packed copy', () => {
    const packed = packedTemplate(name, join(scratch, 'templates'));
    expect(packed.manifest).toEqual(template.manifest);
    expect(packed.tools).toEqual(template.tools);
    expect([...packed.files.keys()].sort()).toEqual([...template.files.keys()].sort());
    for (const [file, content] of template.files) expect(packed.files.get(file)?.equals(content)).toBe(true);
  });
});

describe('templates', () => {
  it('are packed with every file of every template', () => {
    const files = TEMPLATE_NAMES.reduce((n, t) => n + templateFromRepository(t).files.size, 0);
    expect(packedCount).toBe(files);
  });

  it('leave the examples’ own long tests out of teleop-sim and give it the headless check', () => {
    const files = [...templateFromRepository('teleop-sim').files.keys()];
    expect(files).toContain('src/check.test.ts');
    expect(files.filter((f) => TEMPLATES['teleop-sim'].exclude.some((re) => re.test(f)))).toEqual([]);
    expect(files.some((f) => /soak|chaos|e2e|replay\.test|server-view|page-checks/.test(f))).toBe(false);
  });

  it('start ros-robot’s launch file from the project, not the repository', () => {
    const launch = templateFromRepository('ros-robot').files.get('launch/telekit_ros_robot.launch.py');
    expect(launch?.toString('utf8')).toContain('"npm", "--prefix", c["telekit_dir"], "start"');
  });

  it('are read from the examples inside the repository', () => {
    expect(loadTemplate('minimal').files).toEqual(templateFromRepository('minimal').files);
  });

  it('refuse an unknown name, naming the ones there are', () => {
    expect(() => loadTemplate('nope' as 'minimal')).toThrow(
      'unknown template nope: expected one of minimal, teleop-sim, ros-robot, browser-sim',
    );
  });
});
