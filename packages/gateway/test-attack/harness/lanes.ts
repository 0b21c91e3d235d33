/**
 * Joining the gateway's namespaces with raw clients, and the messages the attacks send.
 *
 * @module
 */
import { type Packet, PacketType, RawClient, type RawOptions } from './raw.js';
import type { Target } from './target.js';

export type Lane = '/control' | '/telemetry';

/** A raw client that joined a lane. */
export interface Joined {
  client: RawClient;
  nsp: Lane;
  /** The `welcome` event's payload. */
  welcome: Record<string, unknown>;
  /** The public id the gateway knows this session by. */
  clientId: string | undefined;
  /** The server-issued resume secret (first lane only). */
  resume: string | undefined;
  /** Sends `pub` with an acknowledgement and resolves with the answer. */
  pub(topic: unknown, message: unknown): Promise<unknown>;
  /** Sends `event` with an acknowledgement and resolves with the answer. */
  ask(event: string, ...args: unknown[]): Promise<unknown>;
}

/** What a refused handshake said. */
export interface Refusal {
  /** The CONNECT_ERROR's `data.data`: `{ code, reason }` by the specification. */
  data: { code?: unknown; reason?: unknown } | undefined;
  message: unknown;
}

const opened = new Set<RawClient>();

/** Opens a raw engine.io connection to the target (closed by {@link closeAll}). */
export async function open(target: Target, options: RawOptions = {}): Promise<RawClient> {
  const c = await RawClient.open(target.url, options);
  opened.add(c);
  void c.closed.then(() => opened.delete(c));
  return c;
}

/** Cuts every raw connection still open (between cases, so that no lease or session outlives its case). */
export async function closeAll() {
  const all = [...opened];
  for (const c of all) c.kill();
  await Promise.all(all.map((c) => c.closed));
}

/** Joins `nsp` with `auth`; resolves with the joined lane, or the refusal. */
export async function tryJoin(
  target: Target,
  auth: unknown,
  options: { nsp?: Lane; client?: RawClient; from?: string; raw?: RawOptions } = {},
): Promise<{ ok: true; lane: Joined } | { ok: false; refusal: Refusal | 'closed' }> {
  const nsp = options.nsp ?? '/control';
  const client =
    options.client ??
    (await open(target, { ...options.raw, ...(options.from ? { localAddress: options.from } : {}) }));
  const answer = await client.connect(nsp, auth);
  if (!answer) return { ok: false, refusal: 'closed' };
  if (answer.type === PacketType.CONNECT_ERROR) {
    const d = answer.data as { message?: unknown; data?: Refusal['data'] } | undefined;
    return { ok: false, refusal: { data: d?.data, message: d?.message } };
  }
  const w = await client.waitFor((p) => p.nsp === nsp && isEvent(p, 'welcome'));
  if (!w) return { ok: false, refusal: 'closed' };
  const welcome = ((w.data as unknown[])[1] ?? {}) as Record<string, unknown>;
  const lane: Joined = {
    client,
    nsp,
    welcome,
    clientId: typeof welcome.clientId === 'string' ? welcome.clientId : undefined,
    resume: typeof welcome.resume === 'string' ? welcome.resume : undefined,
    pub: (topic, message) => client.ask(nsp, 'pub', [topic, message]),
    ask: (event, ...args) => client.ask(nsp, event, args),
  };
  return { ok: true, lane };
}

/** Joins `nsp` or throws with the refusal. */
export async function join(
  target: Target,
  auth: unknown,
  options: { nsp?: Lane; client?: RawClient; from?: string; raw?: RawOptions } = {},
): Promise<Joined> {
  const r = await tryJoin(target, auth, options);
  if (!r.ok) throw new Error(`join ${options.nsp ?? '/control'} refused: ${JSON.stringify(r.refusal)}`);
  return r.lane;
}

/** True when `p` is the EVENT `name`. */
export const isEvent = (p: Packet, name: string) =>
  p.type === PacketType.EVENT && Array.isArray(p.data) && p.data[0] === name;

/** A millisecond timestamp on the shared clock of this machine. */
export const now = () => performance.timeOrigin + performance.now();

let seq = 1;
/** The next sequence number (increasing across every message the attacks send). */
export const nextSeq = () => seq++;

/** A twist; `stampShift` moves its stamp from now, ms. */
export function twist(
  x: number,
  options: { stampShift?: number; ttl?: number; seq?: number; stamp?: number } = {},
) {
  return {
    header: {
      seq: options.seq ?? nextSeq(),
      stamp: options.stamp ?? now() + (options.stampShift ?? 0),
      sender: 'attacker',
      ...(options.ttl === undefined ? {} : { ttl: options.ttl }),
    },
    linear: { x, y: 0, z: 0 },
    angular: { x: 0, y: 0, z: 0 },
  };
}

/** An e-stop message; `stamp` overrides its stamp (ms), `stampShift` moves it from now. */
export function estop(
  engage: boolean,
  options: { stampShift?: number; stamp?: number; reason?: string } = {},
) {
  return {
    header: { seq: nextSeq(), stamp: options.stamp ?? now() + (options.stampShift ?? 0), sender: 'attacker' },
    engage,
    ...(options.reason ? { reason: options.reason } : {}),
  };
}

/** The code of a refusal answer (`{ ok: false, error: { code } }`), `'ok'` for `{ ok: true }`, else the answer as JSON. */
export function fate(answer: unknown): string {
  const a = answer as { ok?: unknown; error?: { code?: unknown } } | undefined;
  if (a?.ok === true) return 'ok';
  if (a?.ok === false && typeof a.error?.code === 'string') return a.error.code;
  return `unexpected answer ${JSON.stringify(answer)}`;
}

/** Waits `ms`. */
export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
