import { Topics } from '@telekit/core';
import type { MediaConsumer, MediaJoined } from '@telekit/core/schemas';
import { expectTypeOf, test } from 'vitest';
import type { GatewayClient } from './gateway-client.js';

declare const client: GatewayClient;

test("a request on a topic is typed by the topic's schema and answer", () => {
  expectTypeOf(client.request(Topics.mediaJoin, { stream: 'cam' })).resolves.toEqualTypeOf<MediaJoined>();
  expectTypeOf(
    client.request(Topics.mediaConsume, { transport: 't', stream: 'cam', rtpCapabilities: {} }),
  ).resolves.toEqualTypeOf<MediaConsumer>();
  // @ts-expect-error the body must match the topic's schema
  void client.request(Topics.mediaJoin, { stream: 42 });
});

test('a request by name is untyped unless the caller says', () => {
  expectTypeOf(client.request('/media/plugin_topic', {})).resolves.toEqualTypeOf<unknown>();
  expectTypeOf(client.request<{ n: number }>('/media/plugin_topic', {})).resolves.toEqualTypeOf<{
    n: number;
  }>();
});
