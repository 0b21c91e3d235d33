/**
 * The ROS boundary of the mapping's lines: each line a ROS publisher (commands, taken from the local
 * bus after the control lane's rules, converted and checked field by field against the ROS type) or
 * a ROS subscription (telemetry, checked field by field, stamped, converted and validated by the
 * Telekit schema); and what is refused on either side — counted, reported on `faults$` and
 * `errors$`, and logged without flooding.
 */
import {
  type Clock,
  type Header,
  type InProcessBus,
  type Logger,
  TelekitError,
  type Topic,
  type Transport,
  ValidationError,
} from '@telekit/core';
import type { TransportFault } from '@telekit/core/transport';
import type { Subject, Subscription } from 'rxjs';
import type * as z from 'zod';
import type { FromRosMapping, RosMapping, ToRosMapping } from './mapping.js';
import { rosSchemas, type Time, timeToMs } from './messages.js';
import type { RclModule, RclNode } from './rcl.js';
import { qosOf } from './rcl-context.js';
import type { RosMappingError } from './ros-transport.js';

/** Messages across each mapped line. */
export type LineCounters = Map<RosMapping, { forwarded: number; rejected: number }>;

export interface RosLinesOptions {
  rcl: RclModule;
  node: RclNode;
  /** The transport's local side: commands are taken from it, telemetry published to it. */
  local: Transport;
  bus: InProcessBus;
  clock: Clock;
  logger: Logger;
  counters: LineCounters;
  errors: Subject<RosMappingError>;
  faults: Subject<TransportFault>;
  closed(): boolean;
}

function fieldOf(error: z.ZodError): { field: string; message: string } {
  const issue = error.issues[0];
  const field = issue?.path.map(String).join('.') ?? '';
  return { field, message: issue?.message ?? error.message };
}

/**
 * Opens every line of `mappings` on the node; throws (`E_ROS_UNKNOWN_TYPE`, `E_ROS_NODE`) naming the
 * line that cannot be made. Returns the subscriptions to the local bus, for the transport's close.
 */
export function openLines(mappings: readonly RosMapping[], o: RosLinesOptions): Subscription[] {
  const { rcl, node, local, bus, clock, logger, counters } = o;
  const subscriptions: Subscription[] = [];
  const logged = new Map<RosMapping, number>();

  const reject = (m: RosMapping, message: string, field?: string, code = 'E_VALIDATION') => {
    counters.get(m)!.rejected++;
    if (m.direction === 'from-ros') bus.refused(m.topic as Topic<unknown>);
    o.faults.next({ code, message, topic: m.topic.name, ...(field ? { field } : {}) });
    const e: RosMappingError = {
      ros: m.ros,
      telekit: m.topic.name,
      type: m.type,
      message,
      ...(field ? { field } : {}),
    };
    o.errors.next(e);
    // A driver publishing bad data at 100 Hz must not flood the log: once, then every 10 s.
    const now = clock.now();
    const last = logged.get(m);
    if (last === undefined || now - last >= 10_000) {
      logged.set(m, now);
      logger.warn('message refused at the ROS boundary', { ...e, refused: counters.get(m)!.rejected });
    }
  };

  const create = <T>(m: RosMapping, what: string, make: () => T): T => {
    try {
      return make();
    } catch (error) {
      const text = (error as Error).message;
      const unknown = /not exist|cannot find|not found|unknown|invalid/i.test(text);
      throw new TelekitError(
        unknown ? 'E_ROS_UNKNOWN_TYPE' : 'E_ROS_NODE',
        `${m.topic.name} ↔ ${m.ros}: cannot create the ${what} of type ${m.type}: ${text}`,
        { operation: 'setup', cause: error, context: { topic: m.topic.name, field: 'type' } },
      );
    }
  };

  const toRosLine = (m: ToRosMapping) => {
    const publisher = create(m, 'publisher', () =>
      node.createPublisher(m.type, m.ros, { qos: qosOf(rcl, m.qos) }),
    );
    const schema = rosSchemas[m.type];
    subscriptions.push(
      local.subscribe(m.topic as Topic<never>, { depth: 1 }).subscribe((message) => {
        let out: object;
        try {
          out = m.toRos(message);
        } catch (error) {
          reject(m, `cannot convert to ${m.type}: ${(error as Error).message}`);
          return;
        }
        if (schema) {
          const checked = schema.safeParse(out);
          if (!checked.success) {
            const { field, message: why } = fieldOf(checked.error);
            reject(m, `${m.ros} (${m.type}): field ${field}: ${why}`, field);
            return;
          }
        }
        try {
          publisher.publish(out as never, { validate: true });
          counters.get(m)!.forwarded++;
        } catch (error) {
          reject(m, `${m.ros} (${m.type}): ${(error as Error).message}`, undefined, 'E_ROS_NODE');
        }
      }),
    );
  };

  const fromRosLine = (m: FromRosMapping) => {
    const schema = rosSchemas[m.type];
    let seq = 0;
    const sender = `ros:${m.ros}`.slice(0, 64);
    create(m, 'subscription', () =>
      node.createSubscription(m.type, m.ros, { qos: qosOf(rcl, m.qos) }, (raw: unknown) => {
        if (o.closed()) return;
        let message = raw;
        if (schema) {
          const checked = schema.safeParse(raw);
          if (!checked.success) {
            const { field, message: why } = fieldOf(checked.error);
            reject(m, `${m.ros} (${m.type}): field ${field}: ${why}`, field);
            return;
          }
          message = checked.data;
        }
        const stamp = (message as { header?: { stamp?: Time } }).header?.stamp;
        const ms = stamp ? timeToMs(stamp) : 0;
        const header: Header = { seq: seq++, stamp: ms > 0 ? ms : clock.now(), sender };
        try {
          local.publish(m.topic as Topic<unknown>, m.fromRos(message as never, header));
          counters.get(m)!.forwarded++;
        } catch (error) {
          const field = error instanceof ValidationError ? error.field : undefined;
          reject(m, `${m.ros} → ${m.topic.name}: ${(error as Error).message}`, field);
        }
      }),
    );
  };

  for (const m of mappings) {
    if (m.direction === 'to-ros') toRosLine(m);
    else fromRosLine(m);
  }
  return subscriptions;
}
