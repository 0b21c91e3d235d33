/**
 * The gateway's wire protocol over socket.io (msgpack frames), shared by server and client.
 *
 * Two namespaces, each on its own connection, so that a command and everything about control (lease,
 * e-stop, acknowledgements) never queue behind telemetry bytes:
 *
 * | namespace | client → server | server → client |
 * |---|---|---|
 * | `/control` | `pub` (topic, message, ack?) · `sub`/`unsub` ({ topic }, ack) · `lease` ({ action }, ack) · `time` ({ t0, offset?, rtt? }, ack) | `welcome` · `b` (batch of [topic, message]) · `lease` · `estop` · `health` · `fault` |
 * | `/telemetry` | `pub` · `sub` ({ topic, depth? }, ack) · `unsub` ({ topic }, ack) | `welcome` · `b` · `fault` |
 *
 * Authentication is the handshake's `auth` payload (`{ token, session }`); nothing is sent before it
 * passes.
 *
 * @module
 */
import * as z from 'zod';

/** The protocol version the server and client speak. */
export const GATEWAY_PROTOCOL = 'telekit-gateway/1';

/** The two namespaces, one per lane. */
export const NAMESPACES = { control: '/control', telemetry: '/telemetry' } as const;

/** An error sent to a client: a code, a readable message, and where known the topic and field. */
export interface WireError {
  code: string;
  message: string;
  topic?: string;
  field?: string;
}

/** The answer to `pub`, `sub`, `unsub`. */
export type Ack = { ok: true } | { ok: false; error: WireError };

/** The answer to `lease`. */
export type LeaseAnswer =
  | { granted: true; holder: LeaseInfo }
  | { granted: false; reason: 'forbidden' | 'held' | 'rate-limited' | 'invalid'; holder: LeaseInfo | null };

/** Who holds control. */
export interface LeaseInfo {
  id: string;
  role: 'viewer' | 'operator' | 'admin';
}

/** What the server says first, after authentication. */
export interface Welcome {
  protocol: string;
  clientId: string;
  role: 'viewer' | 'operator' | 'admin';
  lease: LeaseInfo | null;
  estop: EStopInfo;
}

/** The e-stop's state as clients see it. */
export interface EStopInfo {
  latched: boolean;
  by?: string;
  reason?: string;
}

/** Link health, sent to each client about itself once a second. */
export interface LinkHealth {
  /** Round trip of the client's last clock probe, ms (as the client reported it). */
  rtt: number | null;
  /** Server clock minus client clock, ms (as the client estimated it). */
  offset: number | null;
  /** Input→actuation of this client's commands, ms, over its last 256 actuated commands. */
  inputToActuation: { p50: number; p99: number; count: number } | null;
  /** Messages this client lost: telemetry samples dropped for lagging, commands refused. */
  drops: { telemetry: number; control: number };
  lease: LeaseInfo | null;
}

/** The time probe's answer: server receive and send times. */
export interface TimeAnswer {
  t1: number;
  t2: number;
}

const topicName = z.string().min(1).max(128);

/** Arguments of `sub`. */
export const SubscribeRequest = z.object({
  topic: topicName,
  depth: z.number().int().min(1).max(1024).optional(),
});
/** Arguments of `unsub`. */
export const UnsubscribeRequest = z.object({ topic: topicName });
/** Arguments of `lease`. */
export const LeaseRequest = z.object({ action: z.enum(['acquire', 'release', 'takeover']) });
/** Arguments of `time`. */
export const TimeProbe = z.object({
  t0: z.number(),
  offset: z.number().optional(),
  rtt: z.number().min(0).optional(),
});
/** The handshake's auth payload. */
export const AuthPayload = z.object({
  token: z.string().max(8192).optional(),
  session: z
    .string()
    .regex(/^[A-Za-z0-9_-]{1,63}$/, 'expected 1–63 letters, digits, "_" or "-"')
    .optional(),
});
