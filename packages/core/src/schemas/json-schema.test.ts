import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { describe, expect, it } from 'vitest';
import { exampleMessages } from './examples.js';
import { protocolSchemas } from './json-schema.js';
import { Topics } from './topics.js';

const dir = fileURLToPath(new URL('../../../../docs/protocol/', import.meta.url));

describe('published JSON Schemas', () => {
  const files = protocolSchemas();

  it('docs/protocol is up to date (run `pnpm protocol` after changing a schema)', () => {
    const onDisk = readdirSync(dir)
      .filter((f) => f.endsWith('.json'))
      .sort();
    expect(onDisk).toEqual(Object.keys(files).sort());
    for (const [name, content] of Object.entries(files)) {
      expect(JSON.parse(readFileSync(`${dir}${name}`, 'utf8')), `${name} is stale`).toEqual(content);
    }
  });

  it('describes fields with their constraints', () => {
    const twist = files['controller.twist.schema.json'] as {
      $ref: string;
      $defs: Record<string, { required?: string[] }>;
    };
    expect(twist.$ref).toBe('#/$defs/Twist');
    expect(twist.$defs.Twist?.required).toEqual(['header', 'linear', 'angular']);
    expect(twist.$defs.Header?.required).toEqual(['seq', 'stamp', 'sender']);
    expect(JSON.stringify(files['telemetry.battery.schema.json'])).toContain('"maximum":1');
    expect(files['index.json']).toMatchObject({ protocol: 'telekit' });
  });

  it('a standard JSON Schema validator (ajv) accepts the examples and rejects bad messages', () => {
    const ajv = new Ajv2020({ strict: false });
    for (const [key, topic] of Object.entries(Topics)) {
      const file = `${topic.name.slice(1).replaceAll('/', '.')}.schema.json`;
      const validate = ajv.compile(files[file]!);
      const example = exampleMessages[key as keyof typeof Topics];
      expect(validate(example), `${file}: ${JSON.stringify(validate.errors)}`).toBe(true);
      if (topic.lane !== 'media')
        expect(validate({ ...example, header: { seq: -1, stamp: 0, sender: 'x' } }), file).toBe(false);
      else
        expect(
          ajv.compile((files[file]!['x-telekit'] as { answer: object }).answer),
          `${file} answer`,
        ).toBeTypeOf('function');
      expect(validate('not a message'), file).toBe(false);
    }
  });
});
