import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { canTieChildToParent } from './spawn-child.js';

/** Running (a zombie waiting for a reaper counts as gone). */
const alive = (pid: number) => {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
};

async function until(check: () => boolean, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (check()) return true;
    await new Promise((r) => setTimeout(r, 25));
  }
  return check();
}

describe.skipIf(!canTieChildToParent())('spawnChild', () => {
  // A parent Node process spawns `sleep` through spawnChild, prints the child's pid, then is killed
  // with SIGKILL: the kernel must take the child with it.
  it('a child dies with its parent, even when the parent is killed with SIGKILL', async () => {
    const url = new URL('./spawn-child.ts', import.meta.url).href;
    const script = `
      const { spawnChild } = await import(${JSON.stringify(url)});
      const child = spawnChild('sleep', ['60'], { stdio: 'ignore' });
      console.log(child.pid);
      setInterval(() => {}, 1000);
    `;
    const parent = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const [line] = (await once(parent.stdout!, 'data')) as [Buffer];
    const childPid = Number(line.toString().trim());
    expect(Number.isInteger(childPid)).toBe(true);
    expect(alive(childPid)).toBe(true);
    parent.kill('SIGKILL');
    expect(await until(() => !alive(childPid), 10_000)).toBe(true);
  });
});
