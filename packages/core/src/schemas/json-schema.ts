import * as z from 'zod';
import { exampleMessages } from './examples.js';
import { Topics } from './topics.js';

/** The protocol's version, written into every published schema. Bump on a breaking change. */
export const PROTOCOL_VERSION = '1';

/**
 * The protocol as JSON Schema (draft 2020-12): one document per topic plus an `index.json` of topics
 * with their lanes and delivery defaults, keyed by file name. A gateway in another language (the
 * design's Python option) implements the same protocol from these files.
 *
 * @example
 * ```ts
 * import { protocolSchemas } from '@telekit/core';
 * const files = protocolSchemas();
 * files['controller.twist.schema.json'].title; // '/controller/twist'
 * ```
 */
export function protocolSchemas(): Record<string, Record<string, unknown>> {
  const files: Record<string, Record<string, unknown>> = {};
  const index: Record<string, unknown>[] = [];
  for (const [key, topic] of Object.entries(Topics)) {
    const file = `${topic.name.slice(1).replaceAll('/', '.')}.schema.json`;
    const schema = z.toJSONSchema(topic.schema, {
      target: 'draft-2020-12',
      io: 'input',
      unrepresentable: 'any',
    });
    files[file] = {
      ...schema,
      $id: `https://telekit.dev/protocol/v${PROTOCOL_VERSION}/${file}`,
      title: topic.name,
      description: topic.description,
      'x-telekit': {
        lane: topic.lane,
        ...(topic.lane === 'control' ? { ttlMs: topic.ttl } : {}),
        ...(topic.lane === 'telemetry' ? { depth: topic.depth } : {}),
        ...(topic.answer
          ? {
              answer: z.toJSONSchema(topic.answer, {
                target: 'draft-2020-12',
                io: 'output',
                unrepresentable: 'any',
              }),
            }
          : {}),
      },
      examples: [exampleMessages[key as keyof typeof Topics]],
    };
    index.push({ topic: topic.name, lane: topic.lane, schema: file, description: topic.description });
  }
  files['index.json'] = { protocol: 'telekit', version: PROTOCOL_VERSION, topics: index };
  return files;
}
