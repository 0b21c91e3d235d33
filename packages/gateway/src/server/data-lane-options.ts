/**
 * What configures the gateway's DataChannel control lane (`GatewayOptions.dataChannel`), the frames
 * it carries, and how it tells a streamed command worth acting on from a copy or an overtaken one.
 */
import { STREAMED_TOPICS } from '../protocol.js';

/** Options of the DataChannel control lane (`GatewayOptions.dataChannel`). */
export interface DataChannelOptions {
  /**
   * STUN/TURN servers the gateway gathers candidates from (`stun:host:port`,
   * `turn:user:pass@host:port`). Default none: host candidates only, which is what a gateway
   * reachable by its address needs (the browser's checks reach it; its answers go back the same way).
   */
  iceServers?: readonly string[];
  /** Bind ICE to this local address only (default: every interface). */
  bindAddress?: string;
  /** UDP ports ICE may use, e.g. `[40000, 40100]` for a firewall rule (default: any). */
  portRange?: readonly [number, number];
  /** At most this many DataChannel peers at once (default 256); past it, offers are refused. */
  maxPeers?: number;
  /**
   * A DataChannel from which nothing (not even the client's 4 Hz ping) came for this long is closed,
   * ms (default 1 000); whatever its session commanded stops at once when it holds control.
   */
  silenceMs?: number;
}

/** The frames on the DataChannel, each one MessagePack array. */
export const DC_FRAME = { pub: 0, ping: 1 } as const;

/** How many of a topic's latest `seq`s a lane remembers to tell a copy from an overtaken command. */
const RECENT_SEQS = 8;

/**
 * Why a streamed command arriving on the DataChannel is dropped before anything else — the rate
 * limits, the gate — spends on it: `duplicate` for a copy of one the lane has seen (clients send
 * each streamed command twice, a few ms apart), `reordered` for one older than the newest seen (the
 * lane is unordered); undefined for one to act on (remembered in `recent`, per topic). The gate
 * still checks the order of what passes.
 */
export function supersededBy(
  recent: Map<string, number[]>,
  name: unknown,
  message: unknown,
): 'duplicate' | 'reordered' | undefined {
  if (typeof name !== 'string' || !STREAMED_TOPICS.has(name)) return undefined;
  const seq = (message as { header?: { seq?: unknown } } | null)?.header?.seq;
  if (typeof seq !== 'number' || !Number.isFinite(seq)) return undefined;
  const seqs = recent.get(name) ?? [];
  if (seqs.includes(seq)) return 'duplicate';
  seqs.push(seq);
  if (seqs.length > RECENT_SEQS) seqs.shift();
  recent.set(name, seqs);
  return seq >= Math.max(...seqs) ? undefined : 'reordered';
}
