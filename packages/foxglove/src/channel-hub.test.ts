import { silentLogger } from '@telekit/core';
import { finalize, Subject } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { ChannelHub } from './channel-hub.js';
import type { ChannelMessage, ChannelSpec } from './channels.js';
import type { FoxgloveConnection } from './foxglove-connection.js';

/** A connection that records what it was sent, and refuses while `full` (a client not reading). */
function fakeConnection() {
  const sent: { sub: number; json: unknown }[] = [];
  const conn = {
    full: false,
    sendBinary(frame: Buffer) {
      if (conn.full) return false;
      sent.push({ sub: frame.readUInt32LE(1), json: JSON.parse(frame.subarray(13).toString()) });
      return true;
    },
    status() {},
  };
  return { conn, sent, as: conn as unknown as FoxgloveConnection };
}

function spec(video: boolean) {
  const source = new Subject<ChannelMessage>();
  let opened = 0;
  let closed = 0;
  const s: ChannelSpec = {
    topic: video ? '/video/cam' : '/telemetry/pose',
    schemaName: 'x',
    schema: {},
    governedBy: '/telemetry/pose',
    ...(video ? { video: true } : {}),
    open: () => {
      opened++;
      return source.pipe(finalize(() => closed++));
    },
  };
  return { s, source, counts: () => ({ opened, closed }) };
}

describe('ChannelHub', () => {
  it('opens a source on the first subscription and closes it on the last', () => {
    const { s, source, counts } = spec(false);
    const hub = new ChannelHub([s], silentLogger);
    const a = fakeConnection();
    const b = fakeConnection();
    expect(hub.advertised()).toMatchObject([
      { id: 1, topic: '/telemetry/pose', encoding: 'json', schemaEncoding: 'jsonschema' },
    ]);
    hub.subscribe(a.as, 1, 7);
    hub.subscribe(b.as, 1, 9);
    expect(counts()).toEqual({ opened: 1, closed: 0 });
    source.next({ stampMs: 1, json: { n: 1 } });
    expect(a.sent).toEqual([{ sub: 7, json: { n: 1 } }]);
    expect(b.sent).toEqual([{ sub: 9, json: { n: 1 } }]);
    hub.unsubscribe(a.as, 1, 7);
    expect(counts().closed).toBe(0);
    hub.unsubscribe(b.as, 1, 9);
    expect(counts()).toEqual({ opened: 1, closed: 1 });
    expect(hub.open).toEqual([]);
  });

  it('video: a subscriber starts at a keyframe, and one that missed a picture waits for the next', () => {
    const { s, source } = spec(true);
    const hub = new ChannelHub([s], silentLogger);
    const a = fakeConnection();
    hub.subscribe(a.as, 1, 1);
    const unit = (n: number, keyframe: boolean) => source.next({ stampMs: n, keyframe, json: { n } });
    unit(1, false);
    unit(2, true);
    unit(3, false);
    a.conn.full = true;
    unit(4, false); // missed
    a.conn.full = false;
    unit(5, false); // would not decode without 4: skipped
    unit(6, true);
    unit(7, false);
    expect(a.sent.map((m) => (m.json as { n: number }).n)).toEqual([2, 3, 6, 7]);
  });
});
