import { expectTypeOf, test } from 'vitest';
import type { MessageOf } from '../schemas/topic.js';
import { Topics } from '../schemas/topics.js';
import type { Transport } from '../transport/transport.js';
import { createApp } from './create-app.js';
import { type Token, token } from './token.js';
import { TransportToken } from './tokens.js';

test('tokens carry their type to resolve', () => {
  const Speed = token<number>('@test/Speed');
  expectTypeOf(Speed).toEqualTypeOf<Token<number>>();
  const app = createApp({ plugins: [] });
  expectTypeOf(app.resolve(Speed)).toEqualTypeOf<number>();
  expectTypeOf(app.resolve(TransportToken)).toEqualTypeOf<Transport>();
});

test('topics type their messages', () => {
  expectTypeOf<MessageOf<typeof Topics.twist>['linear']['x']>().toEqualTypeOf<number>();
  const t = {} as Transport;
  const battery = { header: { seq: 0, stamp: 0, sender: 'x' }, percentage: 1, voltage: 1, charging: false };
  // @ts-expect-error a battery sample is not a twist
  t.publish(Topics.twist, battery);
});
