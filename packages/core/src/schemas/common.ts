import * as z from 'zod';

/** Longest name (joint, body, sender, topic) a message may carry. */
export const MAX_NAME_LENGTH = 128;
/** Most joints, axes or bodies a single message may carry. */
export const MAX_ITEMS = 256;

/** A finite number (JSON has no NaN or Infinity, and neither does a safe command). */
export const finite = () => z.number();

/** A short identifier: a joint, body, sender or stream name. */
export const name = () => z.string().min(1).max(MAX_NAME_LENGTH);

/** A 3-vector, metres or radians per axis depending on the field. */
export const Vector3 = z.object({ x: finite(), y: finite(), z: finite() }).meta({ id: 'Vector3' });
export type Vector3 = z.infer<typeof Vector3>;

/** A rotation as a unit quaternion (x, y, z, w). */
export const Quaternion = z
  .object({ x: finite(), y: finite(), z: finite(), w: finite() })
  .meta({ id: 'Quaternion' });
export type Quaternion = z.infer<typeof Quaternion>;

/**
 * The header every message carries.
 *
 * - `seq`: the sender's sequence number for this topic, increasing by one per message.
 * - `stamp`: when the sender sent it, in milliseconds since the Unix epoch on the sender's clock.
 *   Receivers map it to their own clock with the offset estimated by the link (see `OffsetEstimator`).
 * - `sender`: who sent it (a client or plugin id).
 * - `ttl`: control messages only: how long the command stays valid after `stamp`, in ms. A command
 *   older than that is dropped, never actuated late. Absent: the topic's default deadline.
 */
export const Header = z
  .object({
    seq: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER),
    stamp: z.number().min(0),
    sender: name(),
    ttl: z.number().positive().max(60_000).optional(),
  })
  .meta({ id: 'Header' });
export type Header = z.infer<typeof Header>;

/** Adds the header to a message body. */
export function message<S extends z.ZodRawShape>(shape: S) {
  return z.object({ header: Header, ...shape });
}

/** Arrays bounded by {@link MAX_ITEMS}. */
export function list<T extends z.ZodType>(item: T) {
  return z.array(item).max(MAX_ITEMS);
}
