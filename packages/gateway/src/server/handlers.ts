import { checkMessage, type Header, type Topic } from '@telekit/core';
import type * as z from 'zod';
import {
  type Ack,
  type ClientEvent,
  type ClientLane,
  LeaseRequest,
  laneOf,
  RtcSignal,
  SubscribeRequest,
  TimeProbe,
  UnsubscribeRequest,
  type WireError,
} from '../protocol.js';
import { allowed } from './auth.js';
import type { GatewayContext } from './context.js';
import type { CommandFate } from './gateway-options.js';
import type { Session } from './session.js';

/** Who sent an event, and where. */
export interface Caller {
  readonly ctx: GatewayContext;
  readonly session: Session;
  readonly lane: ClientLane;
  /** The door it came in by (default `socket.io`). */
  readonly via?: CommandFate['via'];
}

/**
 * How the gateway answers one event a client may send: on which lanes it may arrive, which rate it
 * counts against, what its arguments must be, and the answer.
 */
export interface Handler {
  /**
   * The lanes it may arrive on. The server's parser closes a connection that sends it on another,
   * and only these lanes listen for it (both derived from this, see {@link CLIENT_EVENTS}).
   */
  readonly lanes: readonly ClientLane[];
  readonly bucket: 'commands' | 'requests';
  /**
   * What its argument must be: a schema for a request body (parsed before it is answered; a body
   * that fails is refused naming its field), or `per-topic` for `[topic, message]` events, whose
   * message is checked against the named topic's own schema.
   */
  readonly schema: z.ZodType | 'per-topic';
  /** The answer when the rate limit refuses the event (default: `E_RATE_LIMITED`). */
  readonly limited?: (caller: Caller) => unknown;
  /** Answers the event's arguments, which reached the gateway at `receivedAt` (its clock, ms). */
  answer(caller: Caller, args: readonly unknown[], receivedAt: number): unknown;
}

/** A table entry for an event whose one argument is a request body with a schema. */
function request<S extends z.ZodType>(spec: {
  lanes: readonly ClientLane[];
  bucket: Handler['bucket'];
  schema: S;
  /** What the body is, for people: "subscribe request". */
  what: string;
  limited?: Handler['limited'];
  /** The answer to a body that fails its schema (default: `E_BAD_REQUEST` naming the field). */
  invalid?: (caller: Caller) => unknown;
  handle(caller: Caller, body: z.output<S>, receivedAt: number): unknown;
}): Handler {
  const { lanes, bucket, schema, what, limited, invalid, handle } = spec;
  return {
    lanes,
    bucket,
    schema,
    ...(limited ? { limited } : {}),
    answer(c, [body], receivedAt) {
      const r = parse(schema as z.ZodType<z.output<S>>, body, what);
      if (!r.ok) return invalid ? invalid(c) : r;
      return handle(c, r.value, receivedAt);
    },
  };
}

export const fault = (code: string, message: string, extra: Partial<WireError> = {}): WireError => ({
  code,
  message,
  ...extra,
});
const refuse = (error: WireError): { ok: false; error: WireError } => ({ ok: false, error });

/**
 * Tells a published message's fate (`Gateway.commandFates$`): `error` when refused, else admitted.
 * Costs a property read while nobody listens.
 */
export function tellFate(c: Caller, name: unknown, message: unknown, error: WireError | undefined): void {
  if (!c.ctx.fates.observed) return;
  const header = (message as { header?: { seq?: unknown; stamp?: unknown } } | null)?.header;
  const seq = typeof header === 'object' && header ? header.seq : undefined;
  const stamp = typeof header === 'object' && header ? header.stamp : undefined;
  c.ctx.fates.next({
    fate: error ? 'refused' : 'admitted',
    ...(error ? { code: error.code, reason: error.message } : {}),
    topic: typeof name === 'string' ? name.slice(0, 128) : '',
    client: c.session.id,
    ...(typeof seq === 'number' && Number.isFinite(seq) ? { seq } : {}),
    ...(typeof stamp === 'number' && Number.isFinite(stamp) ? { stamp } : {}),
    via: c.via ?? 'socket.io',
    at: c.ctx.clock.now(),
  });
}
/** A `pub`'s answer, its fate told on the way out. */
const told = (c: Caller, name: unknown, message: unknown, answer: Ack): Ack => {
  tellFate(c, name, message, answer.ok ? undefined : answer.error);
  return answer;
};

/** Parses a request body, or says which field is wrong. */
function parse<T>(
  schema: z.ZodType<T>,
  value: unknown,
  what: string,
): { ok: true; value: T } | { ok: false; error: WireError } {
  const r = schema.safeParse(value);
  if (r.success) return { ok: true, value: r.data };
  const issue = r.error.issues[0];
  const field = issue?.path.join('.') || '(root)';
  const why = issue?.message.replace(/^Invalid input: /, '') ?? 'malformed';
  return refuse(fault('E_BAD_REQUEST', `invalid ${what}: ${field}: ${why}`, { field }));
}

/** The topic a client names, if it may `verb` it on this lane. */
function topicFor(
  c: Caller,
  name: unknown,
  verb: 'subscribe' | 'publish',
): { ok: true; topic: Topic } | { ok: false; error: WireError } {
  if (typeof name !== 'string')
    return refuse(fault('E_BAD_REQUEST', 'topic must be a string', { field: 'topic' }));
  const topic = c.ctx.topics.get(name);
  const shown = name.slice(0, 128);
  if (!topic) return refuse(fault('E_UNKNOWN_TOPIC', `unknown topic ${shown}`, { topic: shown }));
  const role = c.session.principal.role;
  const rules = c.ctx.acl()[role];
  if (!allowed(verb === 'subscribe' ? rules.subscribe : rules.publish, topic.name)) {
    c.ctx.metrics.refusals.inc({ reason: 'acl' });
    return refuse(fault('E_FORBIDDEN', `role ${role} may not ${verb} ${topic.name}`, { topic: topic.name }));
  }
  if (laneOf(topic) !== c.lane)
    return refuse(
      fault('E_WRONG_LANE', `${topic.name} travels on the ${laneOf(topic)} connection`, {
        topic: topic.name,
      }),
    );
  return { ok: true, topic };
}

/**
 * When the input behind a command happened, on its sender's clock: `header.input`, which a page
 * may add for the latency budget (the gateway's `input` stage). It is not part of the header's
 * schema — validation drops it — so it is read from the message as it came, and only believed as
 * a finite number.
 */
function inputStamp(message: unknown): number | undefined {
  const header = (message as { header?: { input?: unknown } } | null)?.header;
  const input = header && typeof header === 'object' ? header.input : undefined;
  return typeof input === 'number' && Number.isFinite(input) ? input : undefined;
}

/**
 * The gateway's one handler table: every event a client may send — on which lanes, against which
 * rate, with what arguments — and its answer. The server's parser and each lane's listeners are
 * derived from it ({@link CLIENT_EVENTS}): an event not in it, or on a lane it does not name, closes
 * the connection before anything is answered.
 */
export const handlers = {
  pub: {
    lanes: ['control', 'telemetry'],
    bucket: 'commands',
    schema: 'per-topic',
    answer(c, [name, message], receivedAt) {
      c.ctx.metrics.messageSeries.in[c.lane].inc();
      const t = topicFor(c, name, 'publish');
      if (!t.ok) return told(c, name, message, t);
      const checked = checkMessage(t.topic, message);
      if (!checked.ok) {
        c.ctx.metrics.refusals.inc({ reason: 'validation' });
        const { field } = checked.error;
        const error = fault('E_VALIDATION', checked.error.message, { topic: t.topic.name, field });
        return told(c, name, message, refuse(error));
      }
      // The gateway vouches for the sender: a client cannot speak for another.
      const msg = checked.value as { header: Header };
      msg.header = { ...msg.header, sender: c.session.id };
      if (t.topic.lane === 'control')
        return told(c, name, msg, command(c, t.topic, msg, message, receivedAt));
      // Media signalling and (where allowed) telemetry from clients go straight to the app.
      try {
        c.ctx.transport.publish(t.topic, msg);
      } catch (error) {
        const why = `the app refused the message: ${String(error)}`;
        return told(c, name, message, refuse(fault('E_INTERNAL', why, { topic: t.topic.name })));
      }
      if (t.topic.lane === 'telemetry')
        c.ctx.backplane.relay({ lane: 'telemetry', topic: t.topic.name, message: msg });
      return { ok: true } satisfies Ack;
    },
  },

  sub: request({
    lanes: ['control', 'telemetry'],
    bucket: 'requests',
    schema: SubscribeRequest,
    what: 'subscribe request',
    handle(c, { topic: name, depth }) {
      const t = topicFor(c, name, 'subscribe');
      if (!t.ok) return t;
      const outbox = c.session.outboxes[c.lane];
      if (outbox && !outbox.has(t.topic.name)) {
        outbox.open(t.topic, depth ?? t.topic.depth);
        c.ctx.fanOut.want(t.topic);
        const last = c.ctx.fanOut.last(t.topic.name);
        if (last) outbox.push(t.topic.name, last);
      }
      return { ok: true } satisfies Ack;
    },
  }),

  unsub: request({
    lanes: ['control', 'telemetry'],
    bucket: 'requests',
    schema: UnsubscribeRequest,
    what: 'unsubscribe request',
    handle(c, { topic }) {
      if (c.session.outboxes[c.lane]?.close(topic)) c.ctx.fanOut.unwant(topic);
      return { ok: true } satisfies Ack;
    },
  }),

  lease: request({
    lanes: ['control'],
    bucket: 'requests',
    schema: LeaseRequest,
    what: 'lease request',
    limited: (c) => ({ granted: false, reason: 'rate-limited', holder: c.ctx.backplane.holder }),
    invalid: (c) => ({ granted: false, reason: 'invalid', holder: c.ctx.backplane.holder }),
    async handle(c, { action }) {
      const { backplane, metrics } = c.ctx;
      const s = c.session;
      if (action === 'release') {
        await backplane.release(s.id);
        return { granted: false, reason: 'held', holder: backplane.holder };
      }
      const d = await backplane.acquire(
        { id: s.id, name: s.name, role: s.principal.role },
        action === 'takeover',
      );
      if (!d.granted) metrics.refusals.inc({ reason: 'lease' });
      return d;
    },
  }),

  time: request({
    lanes: ['control'],
    bucket: 'requests',
    schema: TimeProbe,
    what: 'time probe',
    handle(c, probe, receivedAt) {
      const error = c.session.clock.probe(probe, receivedAt, c.ctx.clock.now());
      if (error)
        return refuse(fault('E_BAD_REQUEST', `invalid time probe: ${error.field}: ${error.message}`, error));
      const rtt = c.session.clock.lastRtt;
      if (rtt !== null && probe.last) c.ctx.metrics.rtt.observe(rtt / 1000);
      return { t1: receivedAt, t2: c.ctx.clock.now() };
    },
  }),

  rtc: request({
    lanes: ['control'],
    bucket: 'requests',
    schema: RtcSignal,
    what: 'rtc message',
    handle(c, signal) {
      if (!c.ctx.dataLanes)
        return refuse(fault('E_NO_DATACHANNEL', 'this gateway has no DataChannel lane: use socket.io'));
      return c.ctx.dataLanes.signal(c, signal);
    },
  }),

  req: {
    lanes: ['telemetry'],
    bucket: 'requests',
    schema: 'per-topic',
    async answer(c, [name, body]) {
      if (typeof name !== 'string' || !name.startsWith('/media/'))
        return refuse(fault('E_BAD_REQUEST', 'req is for /media/* topics', { field: 'topic' }));
      const role = c.session.principal.role;
      if (!allowed(c.ctx.acl()[role].subscribe, name)) {
        c.ctx.metrics.refusals.inc({ reason: 'acl' });
        return refuse(fault('E_FORBIDDEN', `role ${role} may not use ${name}`, { topic: name }));
      }
      const media = c.ctx.media;
      if (!media) return refuse(fault('E_NO_MEDIA', 'this gateway serves no media', { topic: name }));
      try {
        return { ok: true, answer: await media.request(c.session.id, name, body) };
      } catch (error) {
        const code = (error as { code?: unknown }).code;
        const message = error instanceof Error ? error.message : String(error);
        return refuse(fault(typeof code === 'string' ? code : 'E_MEDIA', message, { topic: name }));
      }
    },
  },
} as const satisfies { readonly [E in ClientEvent]: Handler };

/**
 * The events a client may send on each lane, derived from {@link handlers}: what the server's
 * parser lets through and what each lane listens for.
 */
export const CLIENT_EVENTS: { readonly [L in ClientLane]: readonly ClientEvent[] } = {
  control: eventsOn('control'),
  telemetry: eventsOn('telemetry'),
};

function eventsOn(lane: ClientLane): ClientEvent[] {
  return (Object.keys(handlers) as ClientEvent[]).filter((e) =>
    (handlers[e].lanes as readonly ClientLane[]).includes(lane),
  );
}

/** A command admitted past its topic's schema: through the command pipeline, its stages noted. */
function command(c: Caller, topic: Topic, msg: { header: Header }, raw: unknown, receivedAt: number): Ack {
  const input = inputStamp(raw);
  const verdict = c.ctx.pipeline.submit(c.session, topic, msg);
  if (!verdict.ok) c.session.refused++;
  else
    c.session.stages.admitted(topic.name, msg.header, {
      stamp: msg.header.stamp,
      ...(input === undefined ? {} : { input }),
      offset: c.session.clock.offset ?? 0,
      received: receivedAt,
      admitted: c.ctx.clock.now(),
    });
  return verdict;
}

/** True when an answer refuses what was asked. */
export function isRefusal(answer: unknown): boolean {
  if (!answer || typeof answer !== 'object') return false;
  const a = answer as { ok?: unknown; granted?: unknown; reason?: unknown };
  return a.ok === false || (a.granted === false && a.reason !== 'held');
}
