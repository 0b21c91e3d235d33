import { execFileSync } from 'node:child_process';

/**
 * A rate-limited link on this machine: a network namespace joined to the host by a veth pair,
 * with a token-bucket filter on the host's end so that everything the gateway sends to the
 * namespace leaves at `rate` (what a Wi-Fi or LTE link does to a robot's operator). Needs root
 * (CAP_NET_ADMIN) and iproute2.
 */
export interface ConstrainedLink {
  /** The gateway listens here (the host's end). */
  readonly hostAddress: string;
  /** Runs `command` inside the namespace, as `ip netns exec` does. */
  readonly exec: readonly string[];
  close(): void;
}

const NS = 'telekit-bench';
const HOST_IF = 'tkbench0';
const PEER_IF = 'tkbench1';
const HOST = '10.213.7.1';
const PEER = '10.213.7.2';

const ip = (...args: string[]) => execFileSync('ip', args, { stdio: ['ignore', 'ignore', 'pipe'] });

/** Why a constrained link cannot be made here, or undefined when it can. */
export function constrainedLinkUnavailable(): string | undefined {
  if (process.platform !== 'linux') return 'needs Linux network namespaces';
  if (process.getuid?.() !== 0) return 'needs root (CAP_NET_ADMIN) to create a network namespace';
  try {
    execFileSync('tc', ['-V'], { stdio: 'ignore' });
  } catch {
    return 'needs iproute2 (ip, tc)';
  }
  return undefined;
}

/** Creates the namespace and the link, downstream (host → namespace) limited to `rate` (tc syntax, `10mbit`). */
export function constrainedLink(rate: string): ConstrainedLink {
  teardown();
  try {
    ip('netns', 'add', NS);
    ip('link', 'add', HOST_IF, 'type', 'veth', 'peer', 'name', PEER_IF);
    ip('link', 'set', PEER_IF, 'netns', NS);
    ip('addr', 'add', `${HOST}/30`, 'dev', HOST_IF);
    ip('link', 'set', HOST_IF, 'up');
    ip('netns', 'exec', NS, 'ip', 'addr', 'add', `${PEER}/30`, 'dev', PEER_IF);
    ip('netns', 'exec', NS, 'ip', 'link', 'set', PEER_IF, 'up');
    ip('netns', 'exec', NS, 'ip', 'link', 'set', 'lo', 'up');
    // A 50 ms queue at the bottleneck, as a home router would hold.
    execFileSync('tc', [
      'qdisc',
      'add',
      'dev',
      HOST_IF,
      'root',
      'tbf',
      'rate',
      rate,
      'burst',
      '32kbit',
      'latency',
      '50ms',
    ]);
  } catch (error) {
    teardown();
    throw new Error(`could not make the constrained link: ${(error as { stderr?: Buffer }).stderr ?? error}`);
  }
  return { hostAddress: HOST, exec: ['ip', 'netns', 'exec', NS], close: teardown };
}

function teardown() {
  try {
    ip('netns', 'del', NS);
  } catch {}
  try {
    ip('link', 'del', HOST_IF);
  } catch {}
}
