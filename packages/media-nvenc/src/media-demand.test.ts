import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createMediaDemand } from './media-demand.js';

beforeEach(() => vi.useFakeTimers());
afterEach(() => vi.useRealTimers());

describe('MediaDemand', () => {
  it('wants a stream from the first hold until lingerMs after the last release', () => {
    const demand = createMediaDemand({ streams: ['cam'], lingerMs: 1_000 });
    const seen: boolean[] = [];
    demand.wanted$('cam').subscribe((w) => seen.push(w));
    const a = demand.acquire('cam', 'webrtc:1');
    const b = demand.acquire('cam', 'recorder');
    expect(demand.holders('cam')).toEqual(['webrtc:1', 'recorder']);
    a();
    a(); // a second release of the same hold changes nothing
    vi.advanceTimersByTime(5_000);
    expect(demand.wanted('cam')).toBe(true);
    b();
    vi.advanceTimersByTime(999);
    expect(demand.wanted('cam')).toBe(true);
    // Held again within the linger: it never stopped.
    const c = demand.acquire('cam', 'hls');
    vi.advanceTimersByTime(5_000);
    c();
    vi.advanceTimersByTime(1_000);
    expect(seen).toEqual([false, true, false]);
    expect(demand.holders('cam')).toEqual([]);
    demand.close();
  });

  it('on standby the encoder may start, not the source; a full hold turns it on; down after the linger', () => {
    const demand = createMediaDemand({ streams: ['cam'], lingerMs: 1_000 });
    const levels: string[] = [];
    demand.level$('cam').subscribe((l) => levels.push(l));
    const join = demand.standby('cam', 'webrtc:1');
    const watch = demand.acquire('cam', 'webrtc:1');
    join();
    watch();
    vi.advanceTimersByTime(1_000);
    const other = demand.standby('cam', 'webrtc:2');
    vi.advanceTimersByTime(5_000);
    other();
    vi.advanceTimersByTime(1_000);
    expect(levels).toEqual(['off', 'standby', 'on', 'off', 'standby', 'off']);
    expect(demand.wanted('cam')).toBe(false);
    demand.close();
  });

  it('refuses an unknown stream, naming it', () => {
    const demand = createMediaDemand({ streams: ['cam'] });
    expect(() => demand.acquire('nope', 'x')).toThrow('unknown stream [stream:nope]');
    demand.close();
  });
});
