/**
 * `pnpm soak [--clients 100] [--seconds 600]`: the demo under a crowd for a while. The demo app runs
 * in a process of its own (soak-app.ts: gateway, MuJoCo sidecar, media); this process opens
 * one operator who drives at 20 Hz and `clients − 1` viewers who watch every telemetry topic, each a
 * real gateway client with its own token. Every 10 s it prints a progress line; at the end, what the
 * issue asks of a soak:
 *
 * - no crash: the app and its sidecar alive, the sidecar never restarted;
 * - memory flat: the app's and the sidecar's resident memory at the start and the end;
 * - zero commands applied past their deadline — counted twice: by the sidecar itself (the oldest
 *   command it ever applied) and from outside (each of the operator's actuation reports: applied
 *   later than its deadline after it was sent);
 * - the operator's control round trip (the gateway's own measure of its probes), p50 and p99.
 *
 * A 60-second run of it is part of the test command (soak.test.ts).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createInterface, type Interface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { DEFAULT_TTL_MS, Topics, type Twist } from '@telekit/core';
import type { Actuation } from '@telekit/core/schemas';
import { type GatewayClient, gatewayClient } from '@telekit/gateway/client';

/** What a soak found. */
export interface SoakReport {
  clients: number;
  seconds: number;
  /** The app process (and its children) still running at the end, the sidecar never restarted. */
  alive: boolean;
  sidecarRestarts: number;
  /** Resident memory, MB: the app process and the sidecar, at the start and the end. */
  memory: { app: [number, number]; sidecar: [number, number] };
  commands: { sent: number; reported: number; fates: Record<string, number> };
  /** Applied later than their deadline, as measured from the operator's reports. */
  appliedLate: number;
  /** The oldest a command was when the sidecar applied it, ms (its own count). */
  sidecarOldestAppliedMs: number;
  /** The operator's round trip to the gateway, ms. */
  controlRtt: { p50: number; p99: number } | null;
  /** Telemetry samples the viewers received. */
  telemetrySamples: number;
  /** Clients connected at the end. */
  connected: number;
}

/** Resident memory of a process, MB. */
function rssMb(pid: number | undefined): number {
  if (!pid) return 0;
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : 0;
  } catch {
    return 0;
  }
}

/** The pids of a process's children. */
const childPids = (pid: number): number[] => {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8')
      .trim()
      .split(/\s+/)
      .filter(Boolean)
      .map(Number);
  } catch {
    return [];
  }
};
const commandOf = (pid: number): string => {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ');
  } catch {
    return '';
  }
};

const alive = (pid: number | undefined) => {
  if (!pid) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

/** The app process, and a way to ask it things by line. */
class AppProcess {
  readonly child: ChildProcess;
  readonly #lines: Interface;
  readonly #waiting: { prefix: string; resolve: (rest: string) => void }[] = [];

  constructor() {
    this.child = spawn(
      process.execPath,
      ['--import', 'tsx', '--conditions=source', fileURLToPath(new URL('./soak-app.ts', import.meta.url))],
      {
        stdio: ['pipe', 'pipe', 'inherit'],
      },
    );
    this.#lines = createInterface({ input: this.child.stdout! });
    this.#lines.on('line', (line) => {
      const i = this.#waiting.findIndex((w) => line.startsWith(`${w.prefix} `));
      if (i >= 0) this.#waiting.splice(i, 1)[0]!.resolve(line.slice(line.indexOf(' ') + 1));
    });
  }

  next(prefix: string, timeoutMs = 60_000): Promise<string> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`the soak app did not answer ${prefix}`)), timeoutMs);
      this.#waiting.push({
        prefix,
        resolve: (rest) => {
          clearTimeout(timer);
          resolve(rest);
        },
      });
    });
  }

  ask(line: string, prefix: string): Promise<string> {
    const answer = this.next(prefix);
    this.child.stdin!.write(`${line}\n`);
    return answer;
  }

  async close(): Promise<void> {
    if (this.child.exitCode !== null) return;
    const exited = new Promise((r) => this.child.once('exit', r));
    this.child.kill('SIGTERM');
    const kill = setTimeout(() => this.child.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(kill);
  }
}

/** Runs a soak; `progress` gets a line every 10 s. */
export async function runSoak(
  options: { clients: number; seconds: number },
  progress: (line: string) => void = () => undefined,
): Promise<SoakReport> {
  const app = new AppProcess();
  const clients: GatewayClient[] = [];
  try {
    const url = await app.next('ready', 120_000);
    const self = app.child.pid!;
    // The sidecar is the app's Python child (the others: the SFU worker, ffmpeg while someone watches).
    const sidecar = () => childPids(self).find((pid) => commandOf(pid).includes('telekit_sim'));

    const operator = gatewayClient({ url, token: await app.ask('token soak-operator operator', 'token') });
    clients.push(operator);
    for (let i = 1; i < options.clients; i++) {
      clients.push(gatewayClient({ url, token: await app.ask(`token soak-viewer-${i} viewer`, 'token') }));
    }
    // Connect in small groups, as a crowd arriving, not a thundering herd.
    for (let i = 0; i < clients.length; i += 10)
      await Promise.all(clients.slice(i, i + 10).map((c) => c.connect()));
    // The crowd's first requests may meet the rate limits: ask until granted.
    for (let i = 0; !(await operator.requestControl()).granted; i++) {
      if (i === 20) throw new Error('the operator never got the control lease');
      await new Promise((r) => setTimeout(r, 500));
    }

    let samples = 0;
    for (const c of clients.slice(1))
      for (const topic of [Topics.pose, Topics.imu, Topics.jointState, Topics.simState])
        c.subscribe(topic as typeof Topics.pose).subscribe(() => samples++);
    const fates: Record<string, number> = {};
    let reported = 0;
    let late = 0;
    operator.subscribe(Topics.actuation, { depth: 256 }).subscribe((a: Actuation) => {
      if (a.command.sender !== operator.clientId) return;
      reported++;
      fates[a.fate] = (fates[a.fate] ?? 0) + 1;
      if (a.fate === 'applied' && a.actuatedAt - a.command.stamp > DEFAULT_TTL_MS) late++;
    });
    let rtt: { p50: number; p99: number } | null = null;
    operator.health$.subscribe((h: { rtt: { p50: number; p99: number } | null }) => {
      if (h.rtt) rtt = { p50: h.rtt.p50, p99: h.rtt.p99 };
    });

    let sent = 0;
    const drive = setInterval(() => {
      const x = 0.3 * Math.sin(sent / 40);
      const twist: Twist = {
        header: { seq: sent, stamp: performance.timeOrigin + performance.now(), sender: 'soak' },
        linear: { x, y: 0, z: 0 },
        angular: { x: 0, y: 0, z: 0.2 },
      };
      operator.publish(Topics.twist, twist);
      sent++;
    }, 50);

    await new Promise((r) => setTimeout(r, 5_000));
    const start = { app: rssMb(self), sidecar: rssMb(sidecar()) };
    const began = Date.now();
    for (;;) {
      const elapsed = (Date.now() - began) / 1000;
      if (elapsed >= options.seconds) break;
      await new Promise((r) => setTimeout(r, Math.min(10_000, (options.seconds - elapsed) * 1000)));
      const connected = clients.filter((c) => c.clientId !== undefined).length;
      progress(
        `  ${Math.round((Date.now() - began) / 1000)}/${options.seconds} s · app ${rssMb(self).toFixed(0)} MB · sidecar ${rssMb(sidecar()).toFixed(0)} MB · clients ${connected}/${clients.length} · commands ${sent} sent, ${fates.applied ?? 0} applied, ${late} late · control rtt p99 ${rtt ? `${(rtt as { p99: number }).p99.toFixed(1)} ms` : '—'}`,
      );
    }
    clearInterval(drive);
    await new Promise((r) => setTimeout(r, 1_000));
    const stats = JSON.parse(await app.ask('stats', 'stats')) as {
      oldestAppliedMs: number;
      restarts: number;
    };
    const end = { app: rssMb(self), sidecar: rssMb(sidecar()) };
    return {
      clients: options.clients,
      seconds: options.seconds,
      alive: alive(self) && app.child.exitCode === null,
      sidecarRestarts: stats.restarts,
      memory: { app: [start.app, end.app], sidecar: [start.sidecar, end.sidecar] },
      commands: { sent, reported, fates },
      appliedLate: late,
      sidecarOldestAppliedMs: stats.oldestAppliedMs,
      controlRtt: rtt,
      telemetrySamples: samples,
      connected: clients.filter((c) => c.clientId !== undefined).length,
    };
  } finally {
    await Promise.all(clients.map((c) => c.close().catch(() => undefined)));
    await app.close();
  }
}

/** The report as lines for people. */
export function formatSoak(r: SoakReport): string {
  const mb = ([a, b]: [number, number]) =>
    `${a.toFixed(0)} → ${b.toFixed(0)} MB (${b - a >= 0 ? '+' : ''}${(b - a).toFixed(0)})`;
  return [
    `soak: ${r.clients} clients for ${r.seconds} s`,
    `  alive                 ${r.alive ? 'yes' : 'NO'} · sidecar restarts ${r.sidecarRestarts}`,
    `  memory                app ${mb(r.memory.app)} · sidecar ${mb(r.memory.sidecar)}`,
    `  commands              ${r.commands.sent} sent · ${r.commands.reported} reported · ${Object.entries(
      r.commands.fates,
    )
      .map(([k, v]) => `${k} ${v}`)
      .join(' · ')}`,
    `  applied past deadline ${r.appliedLate} (operator's reports) · oldest applied ${r.sidecarOldestAppliedMs.toFixed(1)} ms (sidecar's own count; deadline ${DEFAULT_TTL_MS} ms)`,
    `  control round trip    ${r.controlRtt ? `p50 ${r.controlRtt.p50.toFixed(1)} ms · p99 ${r.controlRtt.p99.toFixed(1)} ms` : '—'}`,
    `  telemetry             ${r.telemetrySamples} samples to ${r.clients - 1} viewers · ${r.connected}/${r.clients} clients connected at the end`,
  ].join('\n');
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const { values } = parseArgs({
    options: { clients: { type: 'string', default: '100' }, seconds: { type: 'string', default: '600' } },
  });
  const clients = Number(values.clients);
  const seconds = Number(values.seconds);
  if (!(Number.isInteger(clients) && clients >= 1))
    throw new Error(`--clients: expected a whole number ≥ 1, got ${values.clients}`);
  if (!(seconds > 0)) throw new Error(`--seconds: expected a positive number, got ${values.seconds}`);
  console.log(`telekit soak: ${clients} clients for ${seconds} s against the demo (starting it…)`);
  const report = await runSoak({ clients, seconds }, (line) => console.log(line));
  console.log(formatSoak(report));
  const ok =
    report.alive &&
    report.sidecarRestarts === 0 &&
    report.appliedLate === 0 &&
    report.sidecarOldestAppliedMs <= DEFAULT_TTL_MS;
  process.exit(ok ? 0 : 1);
}
