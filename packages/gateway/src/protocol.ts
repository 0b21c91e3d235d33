/**
 * The gateway's wire protocol over socket.io (MessagePack frames), shared by server and client.
 *
 * Two namespaces, each on its own connection, so that a command and everything about control (lease,
 * e-stop, acknowledgements) never queue behind telemetry bytes:
 *
 * | namespace | client → server | server → client |
 * |---|---|---|
 * | `/control` | `pub` (topic, message, ack?) · `sub`/`unsub` ({ topic }, ack) · `lease` ({ action }, ack) · `time` ({ t0, last? }, ack) · `rtc` (DataChannel signalling, ack) | `welcome` · `b` (batch of [topic, message]) · `lease` · `estop` · `health` · `fault` |
 * | `/telemetry` | `pub` · `sub` ({ topic, depth? }, ack) · `unsub` ({ topic }, ack) · `req` (topic, body, ack) · an empty ACK of a `b` that asked for one | `welcome` · `b` (some with an ack id) · `fault` |
 *
 * Authentication is the handshake's `auth` payload (`{ token, resume, acks? }`); nothing is sent
 * before it passes. A telemetry lane whose client said `acks: true` gets flow control: now and then
 * a `b` asks for an acknowledgement, and the gateway sends no more while two go unanswered. The first lane's `welcome` carries the session's public id and a secret (`resume`) that
 * the other lane and every reconnect present to join the same session. Anything else — another
 * event name, another packet type, another namespace — is a protocol violation: the connection is
 * closed without an answer.
 *
 * The DataChannel lane: after the handshake a client may open a WebRTC DataChannel to the gateway
 * (`rtc` on `/control`: its offer, answered with the gateway's; then its candidates). Its one
 * channel is unordered without retransmissions and carries the streamed commands
 * ({@link STREAMED_TOPICS}) as MessagePack arrays `[0, topic, message]`, and pings `[1, t0]` that
 * the gateway echoes. Everything else stays on socket.io.
 *
 * @module
 */
import * as z from 'zod';

/** The protocol version the server and client speak. */
export const GATEWAY_PROTOCOL = 'telekit-gateway/2';

/** The two namespaces, one per lane. */
export const NAMESPACES = { control: '/control', telemetry: '/telemetry' } as const;

/** The two connections a client holds to the gateway. */
export type ClientLane = keyof typeof NAMESPACES;

/**
 * An event a client may send. The gateway's handler table has one entry for each (the compiler holds
 * the two together); which lanes each may arrive on is `CLIENT_EVENTS`.
 */
export type ClientEvent = 'pub' | 'sub' | 'unsub' | 'lease' | 'time' | 'rtc' | 'req';

/** Which connection a topic travels on: commands on the control lane, everything else on telemetry. */
export const laneOf = (topic: { lane: string }): ClientLane =>
  topic.lane === 'control' ? 'control' : 'telemetry';

/**
 * The commands that may travel on the DataChannel lane: streamed ones, where the next supersedes a
 * lost one (twist, joints, gamepad). E-stops, actions and lease requests stay on the reliable
 * socket.io control connection (an e-stop engage is also sent on the DataChannel, whichever arrives
 * first wins).
 */
export const STREAMED_TOPICS: ReadonlySet<string> = new Set([
  '/controller/twist',
  '/controller/joints',
  '/controller/gamepad',
]);

/** Which lane carries a client's streamed commands. */
export type ControlLane = 'datachannel' | 'socket.io';

/** The DataChannel lane of a session, as the gateway sees it. */
export interface DataLaneState {
  state: 'connecting' | 'open' | 'closed';
  /** Commands that came in over it since it opened. */
  commands: number;
}

/** An error sent to a client: a code, a readable message, and where known the topic and field. */
export interface WireError {
  code: string;
  message: string;
  topic?: string;
  field?: string;
}

/** The answer to `pub` (the command's fate at the gate), `sub`, `unsub`. */
export type Ack = { ok: true } | { ok: false; error: WireError };

/** The answer to `lease`. */
export type LeaseAnswer =
  | { granted: true; holder: LeaseInfo }
  | { granted: false; reason: 'forbidden' | 'held' | 'rate-limited' | 'invalid'; holder: LeaseInfo | null };

/** Who holds control, as everyone sees it. */
export interface LeaseInfo {
  /** The holder's public session id (the `sender` of its commands). Not a secret: it grants nothing. */
  id: string;
  /** Who it is, for people: the principal's display name. */
  name: string;
  role: 'viewer' | 'operator' | 'admin';
}

/** What the server says first, after authentication. */
export interface Welcome {
  protocol: string;
  /** This session's public id: the `sender` the gateway stamps on its commands. */
  clientId: string;
  /** The secret that joins the other lane and reconnects to this session. Keep it to yourself. */
  resume: string;
  role: 'viewer' | 'operator' | 'admin';
  /** The principal's display name. */
  name: string;
  lease: LeaseInfo | null;
  estop: EStopInfo;
}

/** The e-stop's state as clients see it. */
export interface EStopInfo {
  latched: boolean;
  /** Who engaged it (while latched) or cleared it last: a display name. */
  by?: string;
  /** The public session id of who engaged or cleared it. */
  byId?: string;
  reason?: string;
}

/** Percentiles of recent values, ms. */
export interface Percentiles {
  p50: number;
  p99: number;
  count: number;
}

/**
 * The stages of a command's trip, in the order it passes them; each is timed per command and shown
 * as p50/p99 over the last few seconds (the latency budget's waterfall):
 *
 * | stage | from → to | measured by |
 * |---|---|---|
 * | `input` | the operator's input (a key, the stick, a held key's next repeat) → the page sends it | the page's clock (`header.input` → `header.stamp`) |
 * | `network` | sent → the gateway receives it | the gateway, through the client's clock offset |
 * | `gate` | received → admitted (validation, lease, order, deadline, e-stop) | the gateway |
 * | `forward` | admitted → the actuator (the simulator's sidecar, a robot driver) receives it | the actuator's `receivedAt` |
 * | `apply` | received → applied (the physics step that used it) | the actuator |
 * | `report` | applied → its actuation report reaches the gateway | the gateway |
 *
 * `input` → `apply` is input→actuation; `report` is the way back, not part of it.
 */
export const COMMAND_STAGES = ['input', 'network', 'gate', 'forward', 'apply', 'report'] as const;

/** One stage of a command's trip (see {@link COMMAND_STAGES}). */
export type CommandStage = (typeof COMMAND_STAGES)[number];

/** One stage's figures over the window, ms. */
export interface StageFigures extends Percentiles {
  stage: CommandStage;
}

/** Where the time of a client's recent commands went: the latency budget, stage by stage. */
export interface LatencyBudget {
  /** The window the figures cover, ms (the last few seconds). */
  windowMs: number;
  /**
   * Each stage's p50/p99 over the commands that were applied in the window, in the order a command
   * passes them; a stage nothing measured is left out (`input` needs a page that stamps its input,
   * `forward` and `apply` an actuator that reports `receivedAt`).
   */
  stages: StageFigures[];
  /**
   * Input → actuation of every command that took effect in the window, ms: applied ones, and
   * superseded ones timed to the newer command of theirs that was applied in their place (its
   * input was carried out then). Expired, e-stopped and refused ones never took effect: they are
   * in `fates`, not here.
   */
  inputToActuation: Percentiles | null;
  /** What became of the commands reported in the window. */
  fates: Partial<Record<'applied' | 'superseded' | 'expired' | 'estop' | 'refused', number>>;
}

/** Link health, sent to each client about itself once a second. */
export interface LinkHealth {
  /** Round trip of the client's recent clock probes, ms, as the gateway measured them. */
  rtt: Percentiles | null;
  /** Server clock minus client clock, ms, as the gateway estimated it from the probes. */
  offset: number | null;
  /** Input→actuation of this client's recent commands, ms: the same as `budget.inputToActuation`. */
  inputToActuation: Percentiles | null;
  /** What became of this client's commands where they act (applied, superseded, expired…), since it connected. */
  fates: Partial<Record<'applied' | 'superseded' | 'expired' | 'estop' | 'refused', number>>;
  /** The latency budget of this client's recent commands, stage by stage. */
  budget: LatencyBudget;
  /** Messages this client lost: telemetry samples dropped for lagging, commands refused. */
  drops: { telemetry: number; control: number };
  lease: LeaseInfo | null;
  /** The session's DataChannel lane as the gateway sees it (absent from gateways without one). */
  dataChannel?: DataLaneState;
}

/** The time probe's answer: server receive and send times. */
export interface TimeAnswer {
  t1: number;
  t2: number;
}

const topicName = z.string().min(1).max(128);

/** Arguments of `sub`. */
export const SubscribeRequest = z.strictObject({
  topic: topicName,
  depth: z.number().int().min(1).max(1024).optional(),
});
/** Arguments of `unsub`. */
export const UnsubscribeRequest = z.strictObject({ topic: topicName });
/** Arguments of `lease`. */
export const LeaseRequest = z.strictObject({ action: z.enum(['acquire', 'release', 'takeover']) });
/**
 * Arguments of `time`: the client's send time `t0`, and for the previous probe its `t0` and the
 * client's receive time `t3`, from which the gateway bounds the clock offset itself (NTP's method).
 */
export const TimeProbe = z.strictObject({
  t0: z.number().min(0),
  last: z.strictObject({ t0: z.number().min(0), t3: z.number().min(0) }).optional(),
});
export type TimeProbe = z.infer<typeof TimeProbe>;
/** Arguments of `rtc`: the client's offer (its candidates held back), then its candidates; or close. */
export const RtcSignal = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('offer'), sdp: z.string().min(1).max(16_384) }),
  z.strictObject({
    type: z.literal('candidates'),
    mid: z.string().max(32),
    candidates: z.array(z.string().max(512)).max(64),
  }),
  z.strictObject({ type: z.literal('close') }),
]);
export type RtcSignal = z.infer<typeof RtcSignal>;
/** The handshake's auth payload. */
export const AuthPayload = z.strictObject({
  token: z.string().max(8192).optional(),
  /**
   * The client acknowledges each `b` batch the gateway sends on this lane (the telemetry lane):
   * the gateway then keeps what goes unacknowledged small, so telemetry waits in its
   * keep-last mailboxes, where a newer sample replaces it, not in the network's buffers.
   */
  acks: z.literal(true).optional(),
  resume: z
    .string()
    .regex(/^[A-Za-z0-9_-]{16,64}$/, 'expected the resume secret from a welcome')
    .optional(),
});
