import { EventEmitter } from 'node:events';
import type { types } from 'mediasoup';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createMediaDemand } from './media-demand.js';
import { MediaHolds } from './media-holds.js';

beforeEach(() => vi.useFakeTimers());
afterEach(() => vi.useRealTimers());

/** Just what MediaHolds reads of a mediasoup consumer: its id, `closed` and its observer's `close`. */
const fakeConsumer = (id: string) => {
  const observer = new EventEmitter();
  const consumer = { id, closed: false, observer };
  const close = () => {
    consumer.closed = true;
    observer.emit('close');
  };
  return { consumer: consumer as unknown as types.Consumer, close };
};

const setup = () => {
  const demand = createMediaDemand({ streams: ['cam'], lingerMs: 0 });
  const levels: string[] = [];
  demand.level$('cam').subscribe((l) => levels.push(l));
  const holds = new MediaHolds({ demand, joinHoldMs: 1_000, hlsHoldMs: 500 });
  return { demand, levels, holds };
};

describe('MediaHolds', () => {
  it('a join holds its stream on standby for joinHoldMs, renewed by a second join; endJoin lets go at once', () => {
    const { demand, levels, holds } = setup();
    holds.join('c1', 'cam');
    vi.advanceTimersByTime(800);
    holds.join('c1', 'cam'); // renewed: one hold, its time afresh
    expect(demand.holders('cam')).toEqual(['webrtc:c1']);
    vi.advanceTimersByTime(800);
    expect(levels).toEqual(['off', 'standby']);
    vi.advanceTimersByTime(200);
    expect(demand.holders('cam')).toEqual([]);
    vi.advanceTimersByTime(1); // the demand's linger (0 ms)
    holds.join('c2', 'cam');
    holds.endJoin('c2', 'cam');
    holds.endJoin('c2', 'cam'); // nothing left to end
    vi.advanceTimersByTime(1);
    expect(demand.holders('cam')).toEqual([]);
    expect(levels).toEqual(['off', 'standby', 'off', 'standby', 'off']);
    demand.close();
  });

  it('a consumer holds on standby until resumed, then fully until it closes', () => {
    const { demand, levels, holds } = setup();
    const a = fakeConsumer('a');
    holds.consumer('cam', 'c1', a.consumer);
    expect(levels).toEqual(['off', 'standby']);
    holds.resumed('a', a.consumer);
    holds.resumed('a', a.consumer); // a second resume takes nothing more
    expect(demand.holders('cam')).toEqual(['webrtc:c1']);
    expect(levels).toEqual(['off', 'standby', 'on']);
    a.close();
    vi.advanceTimersByTime(1);
    expect(demand.holders('cam')).toEqual([]);
    // One closed before its viewer resumed it lets its standby go.
    const b = fakeConsumer('b');
    holds.consumer('cam', 'c2', b.consumer);
    b.close();
    holds.resumed('b', b.consumer);
    vi.advanceTimersByTime(1);
    expect(demand.holders('cam')).toEqual([]);
    expect(levels).toEqual(['off', 'standby', 'on', 'off', 'standby', 'off']);
    demand.close();
  });

  it('an HLS fetch holds fully for hlsHoldMs after the last; close() ends the join and HLS holds', () => {
    const { demand, levels, holds } = setup();
    holds.hls('cam');
    vi.advanceTimersByTime(400);
    holds.hls('cam');
    vi.advanceTimersByTime(400);
    expect(demand.holders('cam')).toEqual(['hls']);
    vi.advanceTimersByTime(100);
    expect(demand.holders('cam')).toEqual([]);
    vi.advanceTimersByTime(1); // the demand's linger (0 ms)
    holds.hls('cam');
    holds.join('c1', 'cam');
    holds.close();
    vi.advanceTimersByTime(1);
    expect(demand.holders('cam')).toEqual([]);
    expect(levels).toEqual(['off', 'on', 'off', 'on', 'off']);
    demand.close();
  });

  it('without a MediaDemand nothing is held and nothing fails', () => {
    const holds = new MediaHolds({ joinHoldMs: 1_000, hlsHoldMs: 500 });
    const a = fakeConsumer('a');
    holds.join('c1', 'cam');
    holds.consumer('cam', 'c1', a.consumer);
    holds.resumed('a', a.consumer);
    holds.hls('cam');
    holds.endJoins('c1');
    holds.close();
    expect(vi.getTimerCount()).toBe(0);
  });
});
