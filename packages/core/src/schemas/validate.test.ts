import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isTelekitError } from '../errors.js';
import { exampleMessages } from './examples.js';
import { defineTopic, type Topic } from './topic.js';
import { builtinTopics, Topics, topicByName } from './topics.js';
import { carryValidation, checkMessage, isValidated, parseMessage, ValidationError } from './validate.js';

const entries = Object.entries(Topics) as [keyof typeof Topics, Topic][];

describe('message schemas', () => {
  it.each(entries)('%s accepts its example message', (key, topic) => {
    expect(parseMessage(topic, exampleMessages[key])).toEqual(exampleMessages[key]);
  });

  it('every streamed topic carries a header (media requests are answered, not streamed)', () => {
    for (const [key, topic] of entries) {
      if (topic.lane === 'media') continue;
      const { header: _, ...rest } = exampleMessages[key] as { header: unknown };
      const r = checkMessage(topic, rest);
      expect(r.ok).toBe(false);
      if (!r.ok) expect(r.error.field).toBe('header');
    }
  });

  it('names the field and what was expected', () => {
    const bad = { ...exampleMessages.twist, linear: { x: '1', y: 0, z: 0 } };
    const error = (() => {
      try {
        parseMessage(Topics.twist, bad);
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(ValidationError);
    expect(isTelekitError(error)).toBe(true);
    const v = error as ValidationError;
    expect(v.code).toBe('E_VALIDATION');
    expect(v.field).toBe('linear.x');
    expect(v.message).toBe(
      'invalid message: linear.x: expected number, received string [topic:/controller/twist]',
    );
  });

  it.each([
    [
      'a NaN speed',
      { ...exampleMessages.twist, linear: { x: Number.NaN, y: 0, z: 0 } },
      Topics.twist,
      'linear.x',
    ],
    [
      'an infinite speed',
      { ...exampleMessages.twist, angular: { x: 0, y: 0, z: Infinity } },
      Topics.twist,
      'angular.z',
    ],
    [
      'a negative sequence number',
      { ...exampleMessages.twist, header: { ...exampleMessages.twist.header, seq: -1 } },
      Topics.twist,
      'header.seq',
    ],
    [
      'an empty sender',
      { ...exampleMessages.estop, header: { ...exampleMessages.estop.header, sender: '' } },
      Topics.estop,
      'header.sender',
    ],
    [
      'joint values of the wrong length',
      { ...exampleMessages.joints, position: [1] },
      Topics.joints,
      'position',
    ],
    [
      'a joint command without targets',
      { header: exampleMessages.joints.header, name: ['a'] },
      Topics.joints,
      'position',
    ],
    ['a gamepad axis out of range', { ...exampleMessages.gamepad, axes: [2] }, Topics.gamepad, 'axes[0]'],
    ['an action with capitals', { ...exampleMessages.action, action: 'Reset' }, Topics.action, 'action'],
    ['a battery over 100 %', { ...exampleMessages.battery, percentage: 1.5 }, Topics.battery, 'percentage'],
    [
      'an unknown diagnostic level',
      { ...exampleMessages.diagnostics, status: [{ name: 'x', level: 'bad', message: '' }] },
      Topics.diagnostics,
      'status[0].level',
    ],
    [
      'too many joints',
      { ...exampleMessages.jointState, name: Array(300).fill('j'), position: Array(300).fill(0) },
      Topics.jointState,
      'name',
    ],
    ['a non-object', 'hello', Topics.pose, '(root)'],
  ] as const)('rejects %s, naming %s', (_label, value, topic, field) => {
    const r = checkMessage(topic as Topic, value);
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.error.field).toBe(field);
      expect(r.error.message).toContain(field);
    }
  });

  it('a hostile value (throwing getter) is a validation error, not an escape', () => {
    const hostile = {
      get header(): never {
        throw new Error('boom');
      },
    };
    const r = checkMessage(Topics.twist, hostile);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error.message).toContain('boom');
  });

  it('finds built-in topics by name and rejects malformed topic names', () => {
    expect(topicByName('/controller/twist')).toBe(Topics.twist);
    expect(topicByName('/nope')).toBeUndefined();
    expect(builtinTopics).toHaveLength(entries.length);
    expect(() =>
      defineTopic({ name: 'Bad Name', lane: 'control', schema: Topics.twist.schema, description: '' }),
    ).toThrow(/topic name/);
  });

  describe('property: no input escapes as anything but a validation result', () => {
    // Random values, and random edits of a valid message (a field replaced by anything), so the
    // search reaches deep into each schema rather than failing at the top-level type.
    const mutate = (base: unknown) =>
      fc
        .tuple(
          fc.anything({
            withBigInt: true,
            withDate: true,
            withMap: true,
            withSet: true,
            withTypedArray: true,
            withSparseArray: true,
            withNullPrototype: true,
          }),
          fc.nat(),
          fc.nat(),
        )
        .map(([value, a, b]) => {
          const copy = structuredClone(base) as Record<string, unknown>;
          const keys = Object.keys(copy);
          const key = keys[a % keys.length]!;
          const inner = copy[key];
          if (inner && typeof inner === 'object' && !Array.isArray(inner)) {
            const innerKeys = Object.keys(inner);
            if (innerKeys.length > 0)
              (inner as Record<string, unknown>)[innerKeys[b % innerKeys.length]!] = value;
            else copy[key] = value;
          } else copy[key] = value;
          return copy;
        });

    // A budget of time, not only of runs: on a busy machine fewer values are tried, and the test
    // still fails on the first value that escapes.
    it.each(entries)(
      '%s: 3 000 random and mutated values (or 20 s of them)',
      { timeout: 60_000 },
      (key, topic) => {
        const arbitrary = fc.oneof(
          fc.anything({ withBigInt: true, withNullPrototype: true, withObjectString: true }),
          mutate(exampleMessages[key]),
        );
        fc.assert(
          fc.property(arbitrary, (value) => {
            const r = checkMessage(topic, value);
            if (r.ok) {
              // Whatever passed must pass again unchanged: validation is a fixpoint.
              expect(checkMessage(topic, r.value).ok).toBe(true);
            } else {
              expect(r.error).toBeInstanceOf(ValidationError);
              expect(r.error.field.length).toBeGreaterThan(0);
              expect(r.error.message).toMatch(/^invalid message: /);
            }
            try {
              parseMessage(topic, value);
            } catch (e) {
              expect(e).toBeInstanceOf(ValidationError);
            }
          }),
          { numRuns: 3_000, interruptAfterTimeLimit: 20_000, markInterruptAsFailure: false },
        );
      },
    );
  });
});

describe('the compiled fast path', () => {
  /** A copy of `value` with the leaf or key at a random path replaced, removed, or an unknown key added. */
  const mutation = fc.record({
    pick: fc.nat(),
    action: fc.constantFrom('replace', 'remove', 'add'),
    replacement: fc.oneof(
      fc.double(),
      fc.integer({ min: -3, max: 3 }),
      fc.string({ maxLength: 3 }),
      fc.boolean(),
      fc.constant(null),
      fc.constant(undefined),
      fc.array(fc.integer(), { maxLength: 2 }),
      fc.constant({}),
    ),
  });

  function mutate(value: unknown, m: { pick: number; action: string; replacement: unknown }): unknown {
    const paths: (string | number)[][] = [];
    const walk = (v: unknown, path: (string | number)[]) => {
      paths.push(path);
      if (v && typeof v === 'object')
        for (const [k, child] of Object.entries(v)) walk(child, [...path, Array.isArray(v) ? Number(k) : k]);
    };
    walk(value, []);
    const path = paths[m.pick % paths.length]!;
    const copy = structuredClone(value) as Record<string | number, unknown>;
    if (path.length === 0) return m.action === 'replace' ? m.replacement : copy;
    let parent = copy;
    for (const k of path.slice(0, -1)) parent = parent[k] as Record<string | number, unknown>;
    const key = path.at(-1)!;
    if (m.action === 'replace') parent[key] = m.replacement;
    else if (m.action === 'remove') delete parent[key];
    else if (parent[key] && typeof parent[key] === 'object')
      (parent[key] as Record<string, unknown>).extra = m.replacement;
    return copy;
  }

  it.each(entries)(
    '%s: checkMessage says what zod’s runtime parser says, for its example mutated',
    (key, topic) => {
      fc.assert(
        fc.property(mutation, (m) => {
          const value = mutate(exampleMessages[key], m);
          const runtime = topic.schema.safeParse(value);
          const r = checkMessage(topic, value);
          expect(r.ok).toBe(runtime.success);
          if (r.ok) expect(r.value).toStrictEqual(runtime.data);
          else
            expect(r.error.issues.map((i) => i.field)).toEqual(
              runtime
                .error!.issues.map((i) => i.path.join('.') || '(root)')
                .map((f) => f.replace(/\.(\d+)(?=\.|$)/g, '[$1]')),
            );
        }),
        { numRuns: 200 },
      );
    },
  );
});

describe('the validated mark', () => {
  it('is on what checkMessage returns, not on its input, a spread or a clone, and cannot be forged', () => {
    const input = structuredClone(exampleMessages.twist);
    const r = checkMessage(Topics.twist, input);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(isValidated(r.value)).toBe(true);
    expect(isValidated(input)).toBe(false);
    expect(isValidated({ ...r.value })).toBe(false);
    expect(isValidated(structuredClone(r.value))).toBe(false);
    expect(isValidated(Object.assign(Object.create(Object.getPrototypeOf(r.value)), r.value))).toBe(false);
    expect([null, undefined, 1, 'x'].map(isValidated)).toEqual([false, false, false, false]);
  });

  it('carries to a copy only from a marked original, and a frozen copy simply stays unmarked', () => {
    const r = checkMessage(Topics.twist, exampleMessages.twist);
    if (!r.ok) throw r.error;
    expect(isValidated(carryValidation(r.value, { ...r.value }))).toBe(true);
    expect(isValidated(carryValidation({ ...r.value }, { ...r.value }))).toBe(false);
    expect(() => carryValidation(r.value, Object.freeze({ ...r.value }))).not.toThrow();
  });
});
