import { type ChildProcess, execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { spawnChild } from '@telekit/core/node';

const freePort = () =>
  new Promise<number>((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });

/** Debian puts the broker in /usr/sbin, which is not on every PATH. */
const binary = ['/usr/sbin/mosquitto', '/usr/local/sbin/mosquitto'].find(existsSync) ?? 'mosquitto';

/** Options of {@link startMosquitto}. */
export interface MosquittoOptions {
  /** Users and passwords; with them, anonymous clients are refused. */
  users?: Record<string, string>;
  /** Lines of an ACL file (`user alice`, `topic readwrite robots/#`, …). */
  acl?: readonly string[];
  /** More lines for mosquitto.conf (`set_tcp_nodelay true`, …). */
  extra?: readonly string[];
}

/** A running broker. */
export interface Mosquitto {
  readonly url: string;
  readonly port: number;
  /** Stops the broker (if running) and starts it again on the same port: clients lose their connections. */
  restart(): Promise<void>;
  /** Stops the broker; `restart()` starts it again. Safe twice. */
  stop(): Promise<void>;
}

/**
 * A real Mosquitto on a free loopback port, from a generated config in a temporary directory:
 * no persistence, so a restart forgets sessions, subscriptions and retained messages.
 */
export async function startMosquitto(options: MosquittoOptions = {}): Promise<Mosquitto> {
  const port = await freePort();
  let dir: string | undefined;
  let child: ChildProcess;

  /** The config in a fresh directory, readable by the user the broker drops to when run as root. */
  const configure = (): string => {
    dir = mkdtempSync(join(tmpdir(), 'telekit-mosquitto-'));
    chmodSync(dir, 0o755);
    // stderr, not stdout (block-buffered on a pipe); "running" is logged at the information level.
    const config = [`listener ${port} 127.0.0.1`, 'persistence false', 'log_dest stderr'];
    config.push('log_type error', 'log_type warning', 'log_type notice', 'log_type information');
    if (options.users) {
      const file = join(dir, 'passwords');
      writeFileSync(file, '', { mode: 0o644 });
      for (const [user, password] of Object.entries(options.users))
        execFileSync('mosquitto_passwd', ['-b', file, user, password]);
      chmodSync(file, 0o644);
      config.push('allow_anonymous false', `password_file ${file}`);
    } else config.push('allow_anonymous true');
    if (options.acl) {
      writeFileSync(join(dir, 'acl'), `${options.acl.join('\n')}\n`, { mode: 0o644 });
      config.push(`acl_file ${join(dir, 'acl')}`);
    }
    config.push(...(options.extra ?? []));
    writeFileSync(join(dir, 'mosquitto.conf'), `${config.join('\n')}\n`, { mode: 0o644 });
    return join(dir, 'mosquitto.conf');
  };

  const start = () =>
    new Promise<void>((resolve, reject) => {
      const output: string[] = [];
      // Dies with this process, whatever ends it.
      child = spawnChild(binary, ['-c', configure()], { stdio: ['ignore', 'pipe', 'pipe'] });
      child.once('error', (e) =>
        reject(
          new Error(
            `cannot start mosquitto (Debian package mosquitto; scripts/setup.sh installs it): ${e.message}`,
          ),
        ),
      );
      child.once('exit', (code) => reject(new Error(`mosquitto exited with ${code}: ${output.join('\n')}`)));
      for (const stream of [child.stdout!, child.stderr!])
        createInterface({ input: stream }).on('line', (line) => {
          output.push(line);
          if (/ running$/.test(line)) resolve();
        });
    });
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((r) => child.once('exit', r));
      // SIGKILL, as a crash would: Mosquitto 2.0 can miss a SIGTERM that comes just after "running".
      child.kill('SIGKILL');
      await exited;
    }
    if (dir) rmSync(dir, { recursive: true, force: true });
    dir = undefined;
  };
  await start();
  return {
    url: `mqtt://127.0.0.1:${port}`,
    port,
    async restart() {
      await stop();
      await start();
    },
    stop,
  };
}
