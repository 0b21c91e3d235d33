import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { parseCliArgs, runCli } from './cli.js';

describe('parseCliArgs', () => {
  it('asks for nothing it was not given, and installs and sets up by default', () => {
    expect(parseCliArgs([])).toEqual({ install: true, setup: true, force: false, yes: false, help: false });
  });

  it('takes a directory and every flag', () => {
    expect(
      parseCliArgs([
        'my-robot',
        '--template',
        'ros-robot',
        '--pm',
        'pnpm',
        '--no-install',
        '--no-setup',
        '--packages',
        '/tmp/packs',
        '--force',
        '-y',
      ]),
    ).toEqual({
      dir: 'my-robot',
      template: 'ros-robot',
      pm: 'pnpm',
      install: false,
      setup: false,
      packages: '/tmp/packs',
      force: true,
      yes: true,
      help: false,
    });
    expect(parseCliArgs(['-t', 'minimal', '-h'])).toMatchObject({ template: 'minimal', help: true });
    expect(parseCliArgs(['--template=browser-sim', 'x'])).toMatchObject({
      dir: 'x',
      template: 'browser-sim',
    });
  });

  it('names the flag and what it expects', () => {
    expect(() => parseCliArgs(['--template', 'nope'])).toThrow(
      '--template: expected one of minimal, teleop-sim, ros-robot, browser-sim, got nope',
    );
    expect(() => parseCliArgs(['--pm', 'yarn'])).toThrow('--pm: expected npm or pnpm, got yarn');
    expect(() => parseCliArgs(['a', 'b'])).toThrow('expected one directory, got a b');
    expect(() => parseCliArgs(['--colour'])).toThrow(/--colour/);
    expect(() => parseCliArgs(['--template'])).toThrow(/--template/);
  });
});

describe('runCli', () => {
  const scratch = mkdtempSync(join(tmpdir(), 'create-telekit-cli-'));
  afterAll(() => rmSync(scratch, { recursive: true, force: true }));
  afterEach(() => {
    vi.restoreAllMocks();
  });
  const capture = () => {
    const out: string[] = [];
    const err: string[] = [];
    vi.spyOn(console, 'log').mockImplementation((...a: unknown[]) => void out.push(a.join(' ')));
    vi.spyOn(console, 'error').mockImplementation((...a: unknown[]) => void err.push(a.join(' ')));
    return { out, err };
  };

  it('prints its help and exits 0', async () => {
    const { out } = capture();
    expect(await runCli(['--help'])).toBe(0);
    expect(out.join('\n')).toContain('usage: npm create telekit@latest [dir] -- [options]');
    expect(out.join('\n')).toContain('teleop-sim   drive a simulated robot from a browser');
  });

  it('exits 2 on a bad flag, saying which, with the help', async () => {
    const { err } = capture();
    expect(await runCli(['--pm', 'yarn'])).toBe(2);
    expect(err.join('\n')).toMatch(
      /^create-telekit: --pm: expected npm or pnpm, got yarn\n\ncreate-telekit — a new Telekit app/,
    );
  });

  it('writes a project without a terminal, asking nothing, and says what comes next', async () => {
    const { err } = capture();
    const dir = join(scratch, 'robot');
    expect(await runCli([dir, '--template', 'teleop-sim', '--pm', 'pnpm', '--no-install'])).toBe(0);
    expect(JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'))).toMatchObject({ name: 'robot' });
    expect(existsSync(join(dir, 'src', 'check.test.ts'))).toBe(true);
    const said = err.join('\n');
    expect(said).toContain(`create-telekit: writing teleop-sim into ${dir}`);
    expect(said).toContain(
      `Next:\n  cd ${dir}\n  pnpm install\n  pnpm run setup   # mediasoup's worker and/or the simulator sidecar\n  pnpm start\n  pnpm test   # drives the app headless`,
    );
  });

  it('exits 1 and writes nothing more into a directory that is not empty', async () => {
    const { err } = capture();
    const dir = join(scratch, 'robot');
    expect(await runCli([dir, '--template', 'minimal', '--no-install'])).toBe(1);
    expect(err.join('\n')).toContain(`create-telekit: ${dir} is not empty`);
    expect(existsSync(join(dir, 'src', 'robot-plugin.ts'))).toBe(false);
  });
});
