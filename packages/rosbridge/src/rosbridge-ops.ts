/**
 * The rosbridge v2 ops a client may send, one handler each, and the table the connection dispatches
 * on: each handler reads and checks its fields, then acts through the connection (its gateway peer,
 * its subscriptions and advertisements, the endpoint's hub). `auth` is not here: the connection
 * handles it before a session exists.
 */
import type { Header } from '@telekit/core';
import type { PeerAnswer } from '@telekit/gateway';
import { RosMessages } from '@telekit/transport-ros';
import { normaliseName, sameType } from './ros-names.js';
import { ROSAPI } from './rosapi.js';
import type { RosbridgeConnection } from './rosbridge-connection.js';
import type { Fields, Frame } from './rosbridge-frame.js';

/** rosbridge's status levels, most verbose first. */
export const LEVELS = ['info', 'warning', 'error', 'none'] as const;
export type Level = (typeof LEVELS)[number];

type Handler = (c: RosbridgeConnection, f: Fields, frame: Frame) => void | Promise<void>;

/** The publish op: a ROS message on a mapped topic, through the gateway's handler and safety chain. */
/** The refusal of a topic the mapping has no line for (in the direction asked). */
const unmapped = (c: RosbridgeConnection, op: string, name: string, id: string | undefined) =>
  c.refuse(op, 'topic', `${name.slice(0, 128)} is not mapped to a Telekit topic`, id, 'E_ROSBRIDGE_UNMAPPED');

const publish: Handler = (c, f) => {
  const topic = f.string('topic');
  const msg = f.object('msg');
  if (f.error) return c.refuse('publish', f.error.field, f.error.message, f.id);
  const name = normaliseName(topic);
  const line = c.hub.lineFor(name, c.advertised.get(name));
  if (!line?.fromRos) return unmapped(c, 'publish', name, f.id);
  const schema = RosMessages.rosSchemas[line.type];
  const stamped = RosMessages.rosSchemas['geometry_msgs/msg/TwistStamped']!;
  let checked = schema?.safeParse(msg);
  // `/cmd_vel` takes a Twist or a TwistStamped, whichever the mapping sends on.
  if (
    checked &&
    !checked.success &&
    sameType(line, 'geometry_msgs/msg/TwistStamped') &&
    msg &&
    'twist' in msg
  )
    checked = stamped.safeParse(msg);
  if (checked && !checked.success) {
    const issue = checked.error.issues[0];
    const field = `msg.${issue?.path.join('.') ?? ''}`.replace(/\.$/, '');
    return c.refuse(
      'publish',
      field,
      issue?.message.replace(/^Invalid input: /, '') ?? 'malformed',
      f.id,
      'E_VALIDATION',
    );
  }
  let message: unknown;
  try {
    message = (line.fromRos as unknown as (m: unknown, h: Header) => unknown)(
      checked ? checked.data : msg,
      c.header(line.topic.name),
    );
  } catch (error) {
    return c.refuse(
      'publish',
      'msg',
      `does not convert: ${String(error).slice(0, 120)}`,
      f.id,
      'E_VALIDATION',
    );
  }
  const peer = c.peer!;
  const answer = peer.publish(line.topic.name, message);
  // A rosbridge client has no lease op: an operator's first command asks for the free lease.
  if (!answer.ok && answer.error.code === 'E_NOT_HOLDER' && c.hub.autoLease && peer.role !== 'viewer') {
    void peer.lease('acquire').then(
      (d) => {
        if (!d.granted) return c.refusal('publish', answer as Exclude<PeerAnswer, { ok: true }>, f.id);
        const again = peer.publish(line.topic.name, {
          ...(message as object),
          header: c.header(line.topic.name),
        });
        if (!again.ok) c.refusal('publish', again, f.id);
      },
      (error: unknown) =>
        c.refuse(
          'publish',
          'topic',
          `the lease could not be asked for: ${String(error)}`,
          f.id,
          'E_INTERNAL',
        ),
    );
    return;
  }
  if (!answer.ok) c.refusal('publish', answer, f.id);
};

const subscribe: Handler = (c, f) => {
  const topic = f.string('topic');
  const type = f.string('type', true);
  const throttle = f.number('throttle_rate', 0, 3_600_000) ?? 0;
  const queue = f.number('queue_length', 0, 1_000) ?? 0;
  const compression = f.oneOf('compression', ['none', 'png', 'cbor', 'cbor-raw'] as const, 'none');
  f.number('fragment_size', 0, Number.MAX_SAFE_INTEGER);
  if (f.error) return c.refuse('subscribe', f.error.field, f.error.message, f.id);
  const name = normaliseName(topic);
  const line = c.hub.lineFor(name, type);
  if (!line?.toRos) return unmapped(c, 'subscribe', name, f.id);
  if (type && !sameType(line, type))
    c.note('warning', `subscribe: type: ${name} is ${line.type}, not ${type.slice(0, 128)}`, f.id);
  if (compression === 'png')
    c.note('warning', 'subscribe: compression: png is not supported, sending JSON', f.id);
  const r = c.subscribe(
    topic,
    line,
    f.id ?? `subscribe:${name}`,
    Math.max(1, Math.round(queue)),
    Math.round(throttle),
    compression.startsWith('cbor'),
  );
  if (!r.ok) c.refusal('subscribe', r, f.id);
};

const unsubscribe: Handler = (c, f) => {
  const topic = f.string('topic');
  if (f.error) return c.refuse('unsubscribe', f.error.field, f.error.message, f.id);
  c.unsubscribe(topic, f.id);
};

const advertise: Handler = (c, f) => {
  const topic = f.string('topic');
  const type = f.string('type');
  f.boolean('latch');
  f.number('queue_size', 0, 1_000_000);
  if (f.error) return c.refuse('advertise', f.error.field, f.error.message, f.id);
  const name = normaliseName(topic);
  const line = c.hub.lineFor(name, type);
  if (!line?.fromRos) return unmapped(c, 'advertise', name, f.id);
  if (!sameType(line, type))
    return c.refuse(
      'advertise',
      'type',
      `${name} is ${line.type}, not ${type.slice(0, 128)}`,
      f.id,
      'E_VALIDATION',
    );
  if (c.advertised.size >= 256 && !c.advertised.has(name))
    return c.refuse('advertise', 'topic', 'too many advertised topics: at most 256', f.id);
  c.advertised.set(name, type);
};

const unadvertise: Handler = (c, f) => {
  const topic = f.string('topic');
  if (f.error) return c.refuse('unadvertise', f.error.field, f.error.message, f.id);
  c.advertised.delete(normaliseName(topic));
};

const callService: Handler = async (c, f) => {
  const service = f.string('service');
  const args = f.object('args', true);
  f.string('type', true);
  f.number('timeout', 0, 3_600);
  if (f.error) return c.refuse('call_service', f.error.field, f.error.message, f.id);
  const name = normaliseName(service);
  const answer = await c.hub.call(c, name, args ?? {}, f.number('timeout', 0, 3_600));
  c.reply({
    op: 'service_response',
    service,
    ...(f.id === undefined ? {} : { id: f.id }),
    result: answer.ok,
    values: answer.ok ? answer.values : answer.error,
  });
};

const advertiseService: Handler = (c, f) => {
  const service = f.string('service');
  const type = f.string('type');
  if (f.error) return c.refuse('advertise_service', f.error.field, f.error.message, f.id);
  const name = normaliseName(service);
  if (c.peer!.role === 'viewer')
    return c.refuse(
      'advertise_service',
      'service',
      `role viewer may not offer services`,
      f.id,
      'E_FORBIDDEN',
    );
  if (Object.hasOwn(ROSAPI, name) || !c.hub.offer(c, name, type))
    return c.refuse(
      'advertise_service',
      'service',
      `${name.slice(0, 128)} is offered already`,
      f.id,
      'E_FORBIDDEN',
    );
};

const unadvertiseService: Handler = (c, f) => {
  const service = f.string('service');
  if (f.error) return c.refuse('unadvertise_service', f.error.field, f.error.message, f.id);
  c.hub.withdraw(c, normaliseName(service));
};

const serviceResponse: Handler = (c, f) => {
  const service = f.string('service', true);
  const result = f.boolean('result');
  if (f.error) return c.refuse('service_response', f.error.field, f.error.message, f.id);
  if (f.id === undefined)
    return c.refuse('service_response', 'id', 'expected the id of the call it answers', undefined);
  if (!c.hub.answered(c, f.id, result !== false, f.any('values')))
    c.note('warning', `service_response: id: no call ${f.id} of ${service ?? 'a service'} is waiting`, f.id);
};

const setLevel: Handler = (c, f) => {
  const level = f.oneOf('level', LEVELS, 'error');
  if (f.error) return c.refuse('set_level', f.error.field, f.error.message, f.id);
  c.level = level;
};

/**
 * The op table: every op a client may send, and its handler. What is not here is answered with a
 * status naming the op (`E_ROSBRIDGE_OP`); `auth` is handled before it (it needs no session).
 */
export const OPS: Readonly<Record<string, Handler>> = {
  publish,
  subscribe,
  unsubscribe,
  advertise,
  unadvertise,
  call_service: callService,
  advertise_service: advertiseService,
  unadvertise_service: unadvertiseService,
  service_response: serviceResponse,
  set_level: setLevel,
};

/** The ops the endpoint handles (for its README and the unknown-op answer). */
export const SUPPORTED_OPS: readonly string[] = ['auth', ...Object.keys(OPS)];
