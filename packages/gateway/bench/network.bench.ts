/**
 * `pnpm bench gateway.network`: an operator on a lossy, jittery link (RTT 40 ms ± 10 ms; loss 0, 1,
 * 3, 5 % and Gilbert-Elliott bursts, each way), sending twists at 50 Hz while the gateway offers it
 * ~2 MB/s of telemetry: input→actuation over the socket.io lane and over the DataChannel lane, in
 * one run.
 *
 * The link: the operator runs in a network namespace; `tc netem` on a veth pair where the kernel
 * has it, else netem.py (the same delay, jitter and loss in user space, between two TUN devices).
 * Needs root. Each command's input→actuation is from its send (the operator's clock) to the moment
 * the robot behind the gateway receives the first command at or after it — a lost streamed
 * command is done when its successor arrives, as the gateway's budget counts a superseded one. Both
 * ends share this machine's clock. Also counted: commands that never arrived themselves, those
 * later than 100 ms, the gateway's deadman stops while driving (a lane that stalls past 250 ms stops the robot).
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { inProcessTransport, silentLogger, Topics, type Transport } from '@telekit/core';
import type { BenchMeasurement, Benchmark } from '@telekit/testkit/bench';
import { createGateway } from '../src/index.js';

const NS = 'telekit-netem';
const HOST_IF = 'tknet0';
const PEER_IF = 'tknet1';
const HOST = '10.213.8.1';
const PEER = '10.213.8.2';
const SECONDS = Number(process.env.TELEKIT_NETWORK_SECONDS ?? 15);
const LATE_MS = 100;
const here = fileURLToPath(new URL('.', import.meta.url));
const tsx = fileURLToPath(new URL('../../../node_modules/.bin/tsx', import.meta.url));

/** netem's loss argument and netem.py's, for each case. */
const CASES = {
  '0 %': { tc: [], py: '0' },
  '1 %': { tc: ['loss', '1%'], py: '1' },
  '3 %': { tc: ['loss', '3%'], py: '3' },
  '5 %': { tc: ['loss', '5%'], py: '5' },
  // Wi-Fi-like bursts: into a bad state 1.5 % of packets, out of it 25 % (bursts of ~4), half lost there.
  'bursts (Gilbert-Elliott, ≈3 %)': {
    tc: ['loss', 'gemodel', '1.5%', '25%', '50%', '0.1%'],
    py: 'ge:1.5,25,50,0.1',
  },
} as const;
type Case = keyof typeof CASES;

const quiet = (cmd: string, args: string[]) =>
  execFileSync(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'] });

/** Whether the kernel has netem (this machine's may not). */
function kernelNetem(): boolean {
  try {
    quiet('ip', ['link', 'add', 'tkprobe0', 'type', 'veth', 'peer', 'name', 'tkprobe1']);
    try {
      quiet('tc', ['qdisc', 'add', 'dev', 'tkprobe0', 'root', 'netem', 'delay', '1ms']);
      return true;
    } finally {
      quiet('ip', ['link', 'del', 'tkprobe0']);
    }
  } catch {
    return false;
  }
}

function unavailable(): string | undefined {
  if (process.platform !== 'linux') return 'needs Linux network namespaces';
  if (process.getuid?.() !== 0) return 'needs root (CAP_NET_ADMIN) to make a network namespace and its link';
  try {
    execFileSync('tc', ['-V'], { stdio: 'ignore' });
  } catch {
    return 'needs iproute2 (ip, tc)';
  }
  if (!kernelNetem() && !existsSync('/dev/net/tun'))
    return 'needs tc netem (the kernel has no sch_netem) or /dev/net/tun for netem.py';
  return undefined;
}

/** The emulated link for one case; resolves once it is up. */
async function link(c: Case): Promise<{ how: string; close(): void }> {
  const teardown = () => {
    for (const args of [
      ['netns', 'del', NS],
      ['link', 'del', HOST_IF],
    ])
      try {
        quiet('ip', args);
      } catch {}
  };
  if (kernelNetem()) {
    teardown();
    const netem = ['netem', 'delay', '20ms', '5ms', ...CASES[c].tc];
    quiet('ip', ['netns', 'add', NS]);
    quiet('ip', ['link', 'add', HOST_IF, 'type', 'veth', 'peer', 'name', PEER_IF]);
    quiet('ip', ['link', 'set', PEER_IF, 'netns', NS]);
    quiet('ip', ['addr', 'add', `${HOST}/30`, 'dev', HOST_IF]);
    quiet('ip', ['link', 'set', HOST_IF, 'up']);
    const inNs = (...a: string[]) => quiet('ip', ['netns', 'exec', NS, ...a]);
    inNs('ip', 'addr', 'add', `${PEER}/30`, 'dev', PEER_IF);
    inNs('ip', 'link', 'set', PEER_IF, 'up');
    inNs('ip', 'link', 'set', 'lo', 'up');
    // Both ways, each with a FIFO under netem so that jitter does not reorder packets.
    quiet('tc', ['qdisc', 'add', 'dev', HOST_IF, 'root', 'handle', '1:', ...netem]);
    quiet('tc', ['qdisc', 'add', 'dev', HOST_IF, 'parent', '1:1', 'pfifo', 'limit', '1000']);
    inNs('tc', 'qdisc', 'add', 'dev', PEER_IF, 'root', 'handle', '1:', ...netem);
    inNs('tc', 'qdisc', 'add', 'dev', PEER_IF, 'parent', '1:1', 'pfifo', 'limit', '1000');
    return { how: 'tc netem', close: teardown };
  }
  const child: ChildProcess = spawn(
    'python3',
    [`${here}netem.py`, NS, HOST_IF, PEER_IF, HOST, PEER, '20', '5', CASES[c].py],
    { stdio: ['pipe', 'pipe', 'inherit'] },
  );
  const lines = createInterface({ input: child.stdout! });
  await new Promise<void>((resolve, reject) => {
    lines.once('line', (l) => (l === 'ready' ? resolve() : reject(new Error(`netem.py said ${l}`))));
    child.once('exit', (code) => reject(new Error(`netem.py exited with ${code}`)));
  });
  return {
    how: 'netem.py (user space; the kernel has no sch_netem)',
    close: () => {
      child.stdin!.end();
      child.kill('SIGTERM');
      teardown();
    },
  };
}

/** ~2 KB diagnostics samples, 10 every 10 ms: ~2 MB/s offered to the operator. */
function telemetryLoad(app: Transport): () => void {
  const sample = {
    header: { seq: 0, stamp: 0, sender: 'robot' },
    status: [1, 2].map((i) => ({ name: `load ${i}`, level: 'ok' as const, message: 'x'.repeat(1_000) })),
  };
  let seq = 0;
  const timer = setInterval(() => {
    for (let i = 0; i < 10; i++)
      app.publish(Topics.diagnostics, {
        ...sample,
        header: { seq: seq++, stamp: Date.now(), sender: 'robot' },
      });
  }, 10);
  return () => clearInterval(timer);
}

async function drive(c: Case, lane: 'socket.io' | 'datachannel'): Promise<BenchMeasurement> {
  const l = await link(c);
  const app = inProcessTransport();
  const gateway = await createGateway({
    transport: app,
    auth: 'none',
    logger: silentLogger,
    dataChannel: { bindAddress: HOST },
  });
  const url = await gateway.listen(0, HOST);
  const arrived = new Map<number, number>();
  const stops: number[] = [];
  let lastArrival = 0;
  const robot = app.subscribe(Topics.twist, { depth: 1024 }).subscribe((t) => {
    const at = performance.timeOrigin + performance.now();
    // The gateway's own stops (its deadman): those before the last command count, not the final one.
    if (t.header.sender === 'gateway') stops.push(at);
    else if (!arrived.has(t.header.seq)) {
      arrived.set(t.header.seq, at);
      lastArrival = at;
    }
  });
  const stopLoad = telemetryLoad(app);
  try {
    const child = spawn(
      'ip',
      [
        'netns',
        'exec',
        NS,
        tsx,
        '--conditions=source',
        `${here}network-operator.ts`,
        url,
        lane,
        String(SECONDS),
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    let out = '';
    child.stdout!.on('data', (d) => {
      out += String(d);
    });
    const code = await new Promise<number | null>((r) => child.once('exit', r));
    if (code !== 0) throw new Error(`the operator exited with ${code}`);
    const r = JSON.parse(out.trim().split('\n').at(-1)!) as {
      sent: [number, number][];
      lanes: Record<string, number>;
      telemetryBytesPerSecond: number;
    };
    // Each command is done when it, or the first command after it, reaches the robot.
    const samples: number[] = [];
    let doneAt: number | undefined;
    let unserved = 0;
    for (let i = r.sent.length - 1; i >= 0; i--) {
      const [seq, at] = r.sent[i]!;
      const own = arrived.get(seq);
      if (own !== undefined) doneAt = doneAt === undefined ? own : Math.min(own, doneAt);
      if (doneAt === undefined) unserved++;
      else samples.push(doneAt - at);
    }
    const never = r.sent.filter(([seq]) => !arrived.has(seq)).length;
    const late = samples.filter((ms) => ms > LATE_MS).length;
    const trips = stops.filter((at) => at < lastArrival).length;
    const pct = (n: number) => `${((100 * n) / r.sent.length).toFixed(1)} %`;
    return {
      samples,
      extra: {
        commands: r.sent.length,
        'never applied itself': pct(never),
        [`later than ${LATE_MS} ms`]: pct(late + unserved),
        'deadman stops while driving': trips,
        'sent on': Object.entries(r.lanes)
          .map(([k, v]) => `${k} ${v}`)
          .join(', '),
        'telemetry received': `${(r.telemetryBytesPerSecond / 1e6).toFixed(2)} MB/s`,
        link: l.how,
      },
    };
  } finally {
    stopLoad();
    robot.unsubscribe();
    await gateway.close();
    await app.close();
    l.close();
  }
}

const variants = (Object.keys(CASES) as Case[]).flatMap((c) =>
  (['datachannel', 'socket.io'] as const).map((lane) => ({
    name: `${lane === 'datachannel' ? 'DataChannel' : 'socket.io'}, loss ${c}`,
    run: () => drive(c, lane),
  })),
);

export const benchmarks: Benchmark[] = [
  {
    id: 'gateway.network',
    title: `gateway: input→actuation for an operator on a lossy link (RTT 40 ± 10 ms, loss each way), 50 Hz twists, ~2 MB/s of telemetry offered, ${SECONDS} s per case; socket.io lane vs DataChannel lane (goals: DataChannel at 3 % p99 ≤ 1.3× its 0 % p99; at 0 % no slower than socket.io, ≤ 1.1×)`,
    kind: 'latency',
    unavailable,
    baseline: variants[0]!,
    candidates: variants.slice(1),
  },
];
