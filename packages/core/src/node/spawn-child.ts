import { type ChildProcess, type SpawnOptions, spawn } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';

/** Options of {@link spawnChild}: Node's `spawn` options, plus what happens when this process dies. */
export interface SpawnChildOptions extends SpawnOptions {
  /**
   * The signal the child gets from the kernel the moment this process dies, by any signal including
   * `SIGKILL` (Linux's parent-death signal, set through util-linux's `setpriv --pdeathsig`). Give
   * `SIGTERM` to a child that stops actuators on its way out, `SIGKILL` to one that has nothing to
   * save. `false` lets the child outlive its parent. Default `SIGKILL`.
   */
  parentDeathSignal?: 'SIGKILL' | 'SIGTERM' | 'SIGINT' | false;
}

let setprivPath: string | null | undefined;

/** Where `setpriv` is, or null when this system has none (not Linux, or no util-linux). */
function setpriv(): string | null {
  if (setprivPath !== undefined) return setprivPath;
  setprivPath = null;
  if (process.platform !== 'linux') return setprivPath;
  for (const dir of (process.env.PATH ?? '/usr/bin:/bin').split(delimiter)) {
    const candidate = join(dir, 'setpriv');
    try {
      accessSync(candidate, constants.X_OK);
      setprivPath = candidate;
      break;
    } catch {
      // not here
    }
  }
  return setprivPath;
}

/** True when {@link spawnChild} can tie a child's life to this process on this system. */
export function canTieChildToParent(): boolean {
  return setpriv() !== null;
}

/**
 * Spawns a child process that dies with this one: when the Node process ends by any means (a crash,
 * `kill -9`, the OOM killer), the kernel sends the child `parentDeathSignal`, so no simulator keeps
 * stepping and no encoder keeps running without its owner.
 *
 * On Linux this runs the command through `setpriv --pdeathsig <signal>` (util-linux, on every Debian
 * and Ubuntu), which sets the signal and then `exec`s the command in place: the child's pid is the
 * command's own. Elsewhere the command is spawned as is; children that move something should also
 * watch their parent themselves (the simulator sidecar does). The signal is tied to the thread that
 * spawns: call this from the main thread, not a worker that may exit first.
 *
 * @example
 * ```ts
 * import { spawnChild } from '@telekit/core/node';
 * const ffmpeg = spawnChild('ffmpeg', ['-i', 'tcp://127.0.0.1:9000?listen', 'out.mp4'], { stdio: 'ignore' });
 * ```
 */
export function spawnChild(
  command: string,
  args: readonly string[],
  options: SpawnChildOptions = {},
): ChildProcess {
  const { parentDeathSignal = 'SIGKILL', ...spawnOptions } = options;
  const tie = parentDeathSignal === false ? null : setpriv();
  if (tie === null) return spawn(command, args, spawnOptions);
  return spawn(tie, ['--pdeathsig', parentDeathSignal as string, '--', command, ...args], spawnOptions);
}
