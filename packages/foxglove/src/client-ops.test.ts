import { describe, expect, it } from 'vitest';
import { parseClientText } from './client-ops.js';

describe('parseClientText', () => {
  it('parses the ops the endpoint serves', () => {
    expect(parseClientText('{"op":"subscribe","subscriptions":[{"id":1,"channelId":2}]}')).toEqual({
      ok: true,
      value: { op: 'subscribe', subscriptions: [{ id: 1, channelId: 2 }] },
    });
    expect(parseClientText('{"op":"unsubscribe","subscriptionIds":[1]}')).toMatchObject({ ok: true });
    expect(
      parseClientText(
        '{"op":"advertise","channels":[{"id":1,"topic":"/cmd_vel","encoding":"json","schemaName":"x","schema":""}]}',
      ),
    ).toEqual({
      ok: true,
      value: { op: 'advertise', channels: [{ id: 1, topic: '/cmd_vel', encoding: 'json', schemaName: 'x' }] },
    });
    expect(parseClientText('{"op":"unadvertise","channelIds":[1]}')).toMatchObject({ ok: true });
  });

  it('says what is wrong, naming the field', () => {
    const why = (text: string) => {
      const r = parseClientText(text);
      return r.ok ? undefined : r.why;
    };
    expect(why('{')).toBe('not JSON');
    expect(why('[1]')).toBe('expected a JSON object with an op');
    expect(why('{"op":1}')).toBe('op must be a string');
    expect(why('{"op":"dance"}')).toBe('unknown op dance');
    expect(why('{"op":"getParameters"}')).toMatch(/not served here/);
    expect(why('{"op":"subscribe","subscriptions":{}}')).toBe('subscriptions must be an array');
    expect(why('{"op":"subscribe","subscriptions":[{"id":1.5,"channelId":1}]}')).toMatch(
      /^subscriptions\[0\]/,
    );
    expect(why('{"op":"unsubscribe","subscriptionIds":[-1]}')).toBe(
      'subscriptionIds[0] must be an integer id',
    );
    expect(why(`{"op":"unadvertise","channelIds":[${Array(300).fill(1).join(',')}]}`)).toBe(
      'channelIds has 300 items, at most 256',
    );
  });
});
