/**
 * Reading one rosbridge frame from outside: JSON text (or CBOR, which roslibpy and some UIs send as
 * binary), an object with a string `op`, and for each op the fields it needs, of the right type.
 * Anything else is an error that names the field and what was expected — never a throw.
 *
 * @module
 */
import { decode } from 'cbor2';

/** A frame as it came: an object with a string `op`. */
export type Frame = { readonly op: string } & Readonly<Record<string, unknown>>;

/** What went wrong with a frame: the field, what was expected, and the frame's `id` where it had one. */
export interface FrameError {
  readonly field: string;
  readonly message: string;
  readonly id?: string;
  readonly op?: string;
}

const shown = (v: unknown): string => {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  return typeof v === 'object' ? 'an object' : typeof v;
};

/** Parses raw bytes or text into a frame, or says what is wrong. */
export function readFrame(
  data: Buffer | string,
  binary: boolean,
): { frame: Frame; error?: undefined } | { error: FrameError } {
  let value: unknown;
  if (binary) {
    try {
      value = decode(data as Buffer);
    } catch (error) {
      const why = (error as Error).message.slice(0, 120);
      return { error: { field: '(frame)', message: `binary frame is not CBOR: ${why}` } };
    }
  } else {
    try {
      value = JSON.parse(typeof data === 'string' ? data : data.toString('utf8'));
    } catch (error) {
      return { error: { field: '(frame)', message: `not JSON: ${(error as Error).message.slice(0, 120)}` } };
    }
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value))
    return { error: { field: '(frame)', message: `expected a JSON object, received ${shown(value)}` } };
  const frame = value as Record<string, unknown>;
  const id = typeof frame.id === 'string' ? frame.id.slice(0, 256) : undefined;
  if (typeof frame.op !== 'string')
    return {
      error: {
        field: 'op',
        message: `expected a string, received ${shown(frame.op)}`,
        ...(id === undefined ? {} : { id }),
      },
    };
  return { frame: frame as Frame };
}

/** A frame's fields, read with their expected types; the first wrong one is kept as the error. */
export class Fields {
  readonly #frame: Frame;
  error: FrameError | undefined;

  constructor(frame: Frame) {
    this.#frame = frame;
  }

  /** The frame's `id` (a string, or a number some clients send), shortened. */
  get id(): string | undefined {
    const id = this.#frame.id;
    if (typeof id === 'string') return id.slice(0, 256);
    if (typeof id === 'number' && Number.isFinite(id)) return String(id);
    return undefined;
  }

  string(name: string): string;
  string(name: string, optional: true): string | undefined;
  /** A non-empty string of at most `max` characters (a token may be longer than a topic name). */
  string(name: string, optional: false, max: number): string;
  string(name: string, optional = false, max = 1024): string | undefined {
    const v = this.#frame[name];
    if (v === undefined && optional) return undefined;
    if (typeof v === 'string' && v.length > 0 && v.length <= max) return v;
    const why =
      typeof v === 'string'
        ? v.length === 0
          ? 'an empty string'
          : `a string over ${max} characters`
        : shown(v);
    return this.#fail(name, `expected a non-empty string, received ${why}`) ?? '';
  }

  number(name: string, min: number, max: number): number | undefined {
    const v = this.#frame[name];
    if (v === undefined || v === null) return undefined;
    if (typeof v === 'number' && Number.isFinite(v) && v >= min && v <= max) return v;
    return this.#fail(
      name,
      `expected a number from ${min} to ${max}, received ${typeof v === 'number' ? v : shown(v)}`,
    );
  }

  boolean(name: string): boolean | undefined {
    const v = this.#frame[name];
    if (v === undefined || v === null) return undefined;
    if (typeof v === 'boolean') return v;
    return this.#fail(name, `expected a boolean, received ${shown(v)}`);
  }

  /** An object field (`msg`, `args`, `values`); `optional` ones default to `{}`. */
  object(name: string, optional = false): Record<string, unknown> | undefined {
    const v = this.#frame[name];
    if ((v === undefined || v === null) && optional) return {};
    if (v !== null && typeof v === 'object' && !Array.isArray(v)) return v as Record<string, unknown>;
    return this.#fail(name, `expected an object, received ${shown(v)}`);
  }

  /** Any value (a service response's `values` may be a string when it failed). */
  any(name: string): unknown {
    return this.#frame[name];
  }

  oneOf<T extends string>(name: string, values: readonly T[], fallback: T): T {
    const v = this.#frame[name];
    if (v === undefined || v === null) return fallback;
    if (typeof v === 'string' && (values as readonly string[]).includes(v)) return v as T;
    return (
      (this.#fail(
        name,
        `expected one of ${values.join(', ')}, received ${typeof v === 'string' ? JSON.stringify(v.slice(0, 40)) : shown(v)}`,
      ) as T | undefined) ?? fallback
    );
  }

  #fail(field: string, message: string): undefined {
    if (!this.error) {
      const id = this.id;
      this.error = { field, message, op: this.#frame.op, ...(id === undefined ? {} : { id }) };
    }
    return undefined;
  }
}
