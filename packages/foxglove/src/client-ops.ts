/**
 * What a Foxglove client may send, checked field by field: one entry per JSON `op`, from which the
 * parsing, the answers and the "unknown op" refusal all derive. An op this endpoint does not serve
 * (parameters, services, the connection graph, assets: capabilities it does not advertise) is
 * refused by name.
 */

/** A parsed client request, or why it is not one. */
export type Parsed<T> = { ok: true; value: T } | { ok: false; why: string };

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);
const isId = (v: unknown): v is number =>
  Number.isInteger(v) && (v as number) >= 0 && (v as number) <= 0xffffffff;
const isText = (v: unknown, max: number): v is string => typeof v === 'string' && v.length <= max;

/** A list of at most `max` items, each parsed by `item`. */
function list<T>(
  value: unknown,
  field: string,
  max: number,
  item: (v: unknown, i: number) => Parsed<T>,
): Parsed<T[]> {
  if (!Array.isArray(value)) return { ok: false, why: `${field} must be an array` };
  if (value.length > max) return { ok: false, why: `${field} has ${value.length} items, at most ${max}` };
  const out: T[] = [];
  for (const [i, v] of value.entries()) {
    const r = item(v, i);
    if (!r.ok) return r;
    out.push(r.value);
  }
  return { ok: true, value: out };
}

export interface SubscribeOp {
  op: 'subscribe';
  subscriptions: { id: number; channelId: number }[];
}
export interface UnsubscribeOp {
  op: 'unsubscribe';
  subscriptionIds: number[];
}
export interface AdvertiseOp {
  op: 'advertise';
  channels: { id: number; topic: string; encoding: string; schemaName: string }[];
}
export interface UnadvertiseOp {
  op: 'unadvertise';
  channelIds: number[];
}
export type ClientOp = SubscribeOp | UnsubscribeOp | AdvertiseOp | UnadvertiseOp;

const MAX_ITEMS = 256;

/** The parser of each op the endpoint serves. */
const ops: { [K in ClientOp['op']]: (m: Record<string, unknown>) => Parsed<Extract<ClientOp, { op: K }>> } = {
  subscribe(m) {
    const subs = list(m.subscriptions, 'subscriptions', MAX_ITEMS, (s, i) =>
      isObject(s) && isId(s.id) && isId(s.channelId)
        ? { ok: true, value: { id: s.id, channelId: s.channelId } }
        : { ok: false, why: `subscriptions[${i}] must be { id, channelId } with integer ids` },
    );
    return subs.ok ? { ok: true, value: { op: 'subscribe', subscriptions: subs.value } } : subs;
  },
  unsubscribe(m) {
    const ids = list(m.subscriptionIds, 'subscriptionIds', MAX_ITEMS, (v, i) =>
      isId(v) ? { ok: true, value: v } : { ok: false, why: `subscriptionIds[${i}] must be an integer id` },
    );
    return ids.ok ? { ok: true, value: { op: 'unsubscribe', subscriptionIds: ids.value } } : ids;
  },
  advertise(m) {
    const channels = list(m.channels, 'channels', MAX_ITEMS, (c, i) =>
      isObject(c) && isId(c.id) && isText(c.topic, 256) && isText(c.encoding, 64) && isText(c.schemaName, 256)
        ? { ok: true, value: { id: c.id, topic: c.topic, encoding: c.encoding, schemaName: c.schemaName } }
        : { ok: false, why: `channels[${i}] must be { id, topic, encoding, schemaName }` },
    );
    return channels.ok ? { ok: true, value: { op: 'advertise', channels: channels.value } } : channels;
  },
  unadvertise(m) {
    const ids = list(m.channelIds, 'channelIds', MAX_ITEMS, (v, i) =>
      isId(v) ? { ok: true, value: v } : { ok: false, why: `channelIds[${i}] must be an integer id` },
    );
    return ids.ok ? { ok: true, value: { op: 'unadvertise', channelIds: ids.value } } : ids;
  },
};

/** Ops of the protocol this endpoint does not serve (it does not advertise their capabilities). */
const UNSERVED = new Set([
  'getParameters',
  'setParameters',
  'subscribeParameterUpdates',
  'unsubscribeParameterUpdates',
  'subscribeConnectionGraph',
  'unsubscribeConnectionGraph',
  'fetchAsset',
]);

/** Parses a text frame into a request, or says what is wrong with it. */
export function parseClientText(text: string): Parsed<ClientOp> {
  let message: unknown;
  try {
    message = JSON.parse(text);
  } catch {
    return { ok: false, why: 'not JSON' };
  }
  if (!isObject(message)) return { ok: false, why: 'expected a JSON object with an op' };
  const op = message.op;
  if (typeof op !== 'string') return { ok: false, why: 'op must be a string' };
  if (Object.hasOwn(ops, op)) return ops[op as ClientOp['op']](message);
  if (UNSERVED.has(op))
    return { ok: false, why: `op ${op} is not served here (its capability is not advertised)` };
  return { ok: false, why: `unknown op ${op.slice(0, 64)}` };
}
