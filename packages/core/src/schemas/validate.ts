import * as z from 'zod';
import { TelekitError } from '../errors.js';
import type { Topic } from './topic.js';

/** One problem found in a message: where, and what was expected there. */
export interface FieldIssue {
  /** Dotted path to the field, `linear.x` or `name[2]`; `(root)` for the message itself. */
  readonly field: string;
  /** What was expected and, where known, what was received. */
  readonly expected: string;
}

/**
 * A message did not match its topic's schema. `field` names the first bad field, `issues` all of them.
 */
export class ValidationError extends TelekitError {
  readonly topic: string;
  readonly field: string;
  readonly issues: readonly FieldIssue[];

  constructor(topic: string, issues: readonly FieldIssue[], operation = 'validate') {
    const first = issues[0] ?? { field: '(root)', expected: 'a valid message' };
    const more = issues.length > 1 ? ` (and ${issues.length - 1} more)` : '';
    super('E_VALIDATION', `invalid message: ${first.field}: ${first.expected}${more}`, {
      operation,
      context: { topic },
    });
    this.name = 'ValidationError';
    this.topic = topic;
    this.field = first.field;
    this.issues = issues;
  }
}

// Messages this module produced by validating: a transport may skip validating them again.
//
// The mark is a private field stamped on the message (a base class whose constructor returns the
// object it is given lets a subclass's private field be added to any object): nothing outside this
// module can forge it, a spread or clone does not copy it, and stamping or testing it costs a
// property's worth (a WeakSet cost 0.15 µs a message, more than checking a small one).
class Passthrough {
  constructor(target: object) {
    // biome-ignore lint/correctness/noConstructorReturn: the stamp is added to `target` itself.
    return target;
  }
}
class Validated extends Passthrough {
  #validated = true;
  static mark(value: object): void {
    if (Validated.is(value)) return;
    try {
      new Validated(value);
    } catch {
      // A non-extensible object (where private fields follow extensibility) stays unmarked: it is
      // validated again where it goes, which is only slower.
    }
  }
  static is(value: object): boolean {
    return #validated in value;
  }
}
const validated = { add: Validated.mark, has: Validated.is };

/**
 * True when `value` is a message returned by {@link checkMessage} or {@link parseMessage} (for
 * transports, so a message validated at the boundary is not validated again on every hop).
 * Whoever mutates a validated message takes responsibility for keeping it valid.
 */
export function isValidated(value: unknown): boolean {
  return typeof value === 'object' && value !== null && validated.has(value);
}

/**
 * Core's own: marks `copy` validated when `original` was, for a copy made by core code whose
 * changes keep it valid (the safety gate's admitted command: its header's stamp moved to the
 * receiver's clock, its deadline made explicit). Returns `copy`.
 *
 * @internal
 */
export function carryValidation<T>(original: unknown, copy: T): T {
  if (isValidated(original) && typeof copy === 'object' && copy !== null) validated.add(copy);
  return copy;
}

/**
 * Each topic schema's compiled clone (zod's `z.compile`: generated code checks a valid message
 * 10–20× faster than the runtime parser, and hands anything else to the runtime, so errors are
 * zod's own). Made on a schema's first check; not where `z.config({ jitless: true })` forbids
 * generated code (a page whose CSP refuses `eval`).
 */
const compiled = new WeakMap<z.ZodType, z.ZodType>();

function fastest<T>(schema: z.ZodType<T>): z.ZodType<T> {
  let fast = compiled.get(schema);
  if (!fast) {
    fast = z.config().jitless ? schema : z.compile(schema);
    compiled.set(schema, fast);
  }
  return fast as z.ZodType<T>;
}

/** The outcome of {@link checkMessage}. */
export type CheckResult<T> = { ok: true; value: T } | { ok: false; error: ValidationError };

/**
 * Validates `value` against `topic`'s schema without throwing.
 *
 * @example
 * ```ts
 * import { checkMessage, Topics } from '@telekit/core';
 * const r = checkMessage(Topics.twist, { header: { seq: 0, stamp: 0, sender: 'a' }, linear: { x: '1' } });
 * r.ok; // false
 * if (!r.ok) r.error.field; // 'linear.x'
 * ```
 */
export function checkMessage<T>(topic: Topic<T>, value: unknown): CheckResult<T> {
  let result: ReturnType<z.ZodType<T>['safeParse']>;
  try {
    result = fastest(topic.schema).safeParse(value);
  } catch (cause) {
    // A hostile value (a throwing getter, a revoked proxy) must not escape as anything but a
    // validation error.
    const reason = cause instanceof Error ? cause.message : String(cause);
    return {
      ok: false,
      error: new ValidationError(topic.name, [{ field: '(root)', expected: `a plain value (${reason})` }]),
    };
  }
  if (result.success) {
    if (typeof result.data === 'object' && result.data !== null) validated.add(result.data);
    return { ok: true, value: result.data };
  }
  return { ok: false, error: new ValidationError(topic.name, result.error.issues.map(toFieldIssue)) };
}

/**
 * Validates `value` against `topic`'s schema and returns the typed message, or throws a
 * {@link ValidationError} naming the field and what was expected.
 */
export function parseMessage<T>(topic: Topic<T>, value: unknown): T {
  const result = checkMessage(topic, value);
  if (!result.ok) throw result.error;
  return result.value;
}

function toFieldIssue(issue: z.core.$ZodIssue): FieldIssue {
  return {
    field: formatPath(issue.path),
    expected: lowerFirst(issue.message.replace(/^Invalid input: /, '')),
  };
}

function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const key of path) {
    if (typeof key === 'number') out += `[${key}]`;
    else out += out === '' ? String(key) : `.${String(key)}`;
  }
  return out === '' ? '(root)' : out;
}

function lowerFirst(s: string): string {
  return s.length === 0 ? s : s[0]!.toLowerCase() + s.slice(1);
}
