import { checkMessage, type Header, type Topic } from '@telekit/core';
import type * as z from 'zod';
import {
  type Ack,
  type CLIENT_EVENTS,
  type ClientLane,
  LeaseRequest,
  laneOf,
  SubscribeRequest,
  TimeProbe,
  UnsubscribeRequest,
  type WireError,
} from '../protocol.js';
import { allowed } from './auth.js';
import type { GatewayContext } from './context.js';
import type { CommandFate } from './gateway-options.js';
import type { Session } from './session.js';

/** An event a client may send (on the lanes `CLIENT_EVENTS` says). */
export type ClientEvent = (typeof CLIENT_EVENTS)[ClientLane][number];

/** Who sent an event, and where. */
export interface Caller {
  readonly ctx: GatewayContext;
  readonly session: Session;
  readonly lane: ClientLane;
  /** The door it came in by (default `socket.io`). */
  readonly via?: CommandFate['via'];
}

/** How the gateway answers one event: which rate it counts against, and the answer. */
export interface Handler {
  readonly bucket: 'commands' | 'requests';
  /** The answer when the rate limit refuses the event (default: `E_RATE_LIMITED`). */
  readonly limited?: (caller: Caller) => unknown;
  /** Answers the event, which reached the gateway at `receivedAt` (its clock, ms). */
  handle(caller: Caller, args: readonly unknown[], receivedAt: number): unknown;
}

export const fault = (code: string, message: string, extra: Partial<WireError> = {}): WireError => ({
  code,
  message,
  ...extra,
});
const refuse = (error: WireError): Ack => ({ ok: false, error });

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
function parse<T>(schema: z.ZodType<T>, value: unknown, what: string): { ok: true; value: T } | Ack {
  const r = schema.safeParse(value);
  if (r.success) return { ok: true, value: r.data };
  const issue = r.error.issues[0];
  const field = issue?.path.join('.') || '(root)';
  const why = issue?.message.replace(/^Invalid input: /, '') ?? 'malformed';
  return refuse(fault('E_BAD_REQUEST', `invalid ${what}: ${field}: ${why}`, { field }));
}

/** The topic a client names, if it may `verb` it on this lane. */
function topicFor(c: Caller, name: unknown, verb: 'subscribe' | 'publish'): { ok: true; topic: Topic } | Ack {
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
 * The gateway's one handler table: every event a client may send, the rate it counts against and
 * its answer. The parser lets through only events named in `CLIENT_EVENTS`, and the type below
 * makes this table answer each of them.
 */
export const handlers: { readonly [E in ClientEvent]: Handler } = {
  pub: {
    bucket: 'commands',
    handle(c, [name, message], receivedAt) {
      c.ctx.metrics.messageSeries.in[c.lane].inc();
      const t = topicFor(c, name, 'publish');
      if (!('topic' in t)) return told(c, name, message, t as Ack);
      const checked = checkMessage(t.topic, message);
      if (!checked.ok) {
        c.ctx.metrics.refusals.inc({ reason: 'validation' });
        return told(
          c,
          name,
          message,
          refuse(
            fault('E_VALIDATION', checked.error.message, { topic: t.topic.name, field: checked.error.field }),
          ),
        );
      }
      // The gateway vouches for the sender: a client cannot speak for another.
      const msg = checked.value as { header: Header };
      msg.header = { ...msg.header, sender: c.session.id };
      if (t.topic.lane === 'control') {
        const input = inputStamp(message);
        const verdict = c.ctx.pipeline.submit(c.session, t.topic, msg);
        if (!verdict.ok) c.session.refused++;
        else
          c.session.stages.admitted(t.topic.name, msg.header, {
            stamp: msg.header.stamp,
            ...(input === undefined ? {} : { input }),
            offset: c.session.clock.offset ?? 0,
            received: receivedAt,
            admitted: c.ctx.clock.now(),
          });
        return told(c, name, msg, verdict);
      }
      // Media signalling and (where allowed) telemetry from clients go straight to the app.
      try {
        c.ctx.transport.publish(t.topic, msg);
      } catch (error) {
        return told(
          c,
          name,
          message,
          refuse(
            fault('E_INTERNAL', `the app refused the message: ${String(error)}`, { topic: t.topic.name }),
          ),
        );
      }
      if (t.topic.lane === 'telemetry')
        c.ctx.backplane.relay({ lane: 'telemetry', topic: t.topic.name, message: msg });
      return { ok: true } satisfies Ack;
    },
  },

  sub: {
    bucket: 'requests',
    handle(c, [request]) {
      const r = parse(SubscribeRequest, request, 'subscribe request');
      if (!('value' in r)) return r;
      const t = topicFor(c, r.value.topic, 'subscribe');
      if (!('topic' in t)) return t;
      const outbox = c.session.outboxes[c.lane];
      if (outbox && !outbox.has(t.topic.name)) {
        outbox.open(t.topic, r.value.depth ?? t.topic.depth);
        c.ctx.fanOut.want(t.topic);
        const last = c.ctx.fanOut.last(t.topic.name);
        if (last) outbox.push(t.topic.name, last);
      }
      return { ok: true } satisfies Ack;
    },
  },

  unsub: {
    bucket: 'requests',
    handle(c, [request]) {
      const r = parse(UnsubscribeRequest, request, 'unsubscribe request');
      if (!('value' in r)) return r;
      if (c.session.outboxes[c.lane]?.close(r.value.topic)) c.ctx.fanOut.unwant(r.value.topic);
      return { ok: true } satisfies Ack;
    },
  },

  lease: {
    bucket: 'requests',
    limited: (c) => ({ granted: false, reason: 'rate-limited', holder: c.ctx.backplane.holder }),
    async handle(c, [request]) {
      const { backplane, metrics } = c.ctx;
      const r = LeaseRequest.safeParse(request);
      if (!r.success) return { granted: false, reason: 'invalid', holder: backplane.holder };
      const s = c.session;
      if (r.data.action === 'release') {
        await backplane.release(s.id);
        return { granted: false, reason: 'held', holder: backplane.holder };
      }
      const d = await backplane.acquire(
        { id: s.id, name: s.name, role: s.principal.role },
        r.data.action === 'takeover',
      );
      if (!d.granted) metrics.refusals.inc({ reason: 'lease' });
      return d;
    },
  },

  time: {
    bucket: 'requests',
    handle(c, [probe]) {
      const t1 = c.ctx.clock.now();
      const r = parse(TimeProbe, probe, 'time probe');
      if (!('value' in r)) return r;
      const error = c.session.clock.probe(r.value, t1, c.ctx.clock.now());
      if (error)
        return refuse(fault('E_BAD_REQUEST', `invalid time probe: ${error.field}: ${error.message}`, error));
      const rtt = c.session.clock.lastRtt;
      if (rtt !== null && r.value.last) c.ctx.metrics.rtt.observe(rtt / 1000);
      return { t1, t2: c.ctx.clock.now() };
    },
  },

  rtc: {
    bucket: 'requests',
    handle(c, [request]) {
      if (!c.ctx.dataLanes)
        return refuse(fault('E_NO_DATACHANNEL', 'this gateway has no DataChannel lane: use socket.io'));
      return c.ctx.dataLanes.signal(c, request);
    },
  },

  req: {
    bucket: 'requests',
    async handle(c, [name, body]) {
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
};

/** True when an answer refuses what was asked. */
export function isRefusal(answer: unknown): boolean {
  if (!answer || typeof answer !== 'object') return false;
  const a = answer as { ok?: unknown; granted?: unknown; reason?: unknown };
  return a.ok === false || (a.granted === false && a.reason !== 'held');
}
