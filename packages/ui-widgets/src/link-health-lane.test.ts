import type { ClientLinkHealth, DataChannelInfo } from '@telekit/gateway/client';
import { describe, expect, it } from 'vitest';
import { describeLane } from './link-health-lane.js';

type Mode = ClientLinkHealth['lane']['mode'];
const health = (
  dataChannel: Partial<DataChannelInfo> & Pick<DataChannelInfo, 'state'>,
  mode: Mode = 'auto',
): Pick<ClientLinkHealth, 'controlLane' | 'lane'> => {
  const dc: DataChannelInfo = { rtt: null, ...dataChannel };
  const lane = dc.state === 'open' ? 'datachannel' : 'socket.io';
  return { controlLane: lane, lane: { mode, lane, dataChannel: dc } };
};

describe('describeLane', () => {
  it('the DataChannel in use: its name and its pings’ round trip, no reason', () => {
    const d = describeLane(health({ state: 'open', rtt: { p50: 0.42, p99: 1.3, count: 8 } }));
    expect(d).toEqual({
      lane: 'datachannel',
      label: 'DataChannel',
      detail: 'ping p50 0.4 ms',
      summary: 'control lane: DataChannel, ping p50 0.4 ms',
    });
    expect(describeLane(health({ state: 'open' }))).toEqual({
      lane: 'datachannel',
      label: 'DataChannel',
      summary: 'control lane: DataChannel',
    });
  });

  it('socket.io after the DataChannel failed, with the reason the client gave', () => {
    const d = describeLane(health({ state: 'failed', reason: 'did not open within 5000 ms' }));
    expect(d.lane).toBe('socket.io');
    expect(d.label).toBe('socket.io');
    expect(d.why).toBe('DataChannel failed: did not open within 5000 ms');
    expect(d.summary).toBe('control lane: socket.io — DataChannel failed: did not open within 5000 ms');
  });

  it('socket.io while the DataChannel opens; tried again, with why it failed before', () => {
    expect(describeLane(health({ state: 'connecting' })).why).toBe('DataChannel opening');
    expect(describeLane(health({ state: 'connecting', reason: 'did not open within 5000 ms' })).why).toBe(
      'DataChannel opening again (did not open within 5000 ms)',
    );
  });

  it('a gateway without the lane: not offered by the gateway, with its code', () => {
    const d = describeLane(
      health({
        state: 'off',
        reason: 'E_NO_DATACHANNEL: this gateway has no DataChannel lane: use socket.io',
      }),
    );
    expect(d.lane).toBe('socket.io');
    expect(d.why).toBe('DataChannel not offered by the gateway (E_NO_DATACHANNEL)');
  });

  it('not offered by this client: socket.io chosen, or no RTCPeerConnection', () => {
    expect(
      describeLane(health({ state: 'off', reason: "controlLane is 'socket.io'" }, 'socket.io')).why,
    ).toBe("DataChannel not offered: controlLane is 'socket.io'");
    expect(
      describeLane(
        health({
          state: 'off',
          reason: 'no RTCPeerConnection here (give one in options.rtc.peerConnection)',
        }),
      ).why,
    ).toMatch(/^DataChannel not offered: no RTCPeerConnection here/);
  });

  it('any other off state says off and why', () => {
    expect(describeLane(health({ state: 'off', reason: 'the control connection is down' })).why).toBe(
      'DataChannel off: the control connection is down',
    );
    expect(describeLane(health({ state: 'off' })).why).toBe('DataChannel off');
  });

  it("controlLane 'datachannel' without it open: no lane, and says commands wait for it", () => {
    const d = describeLane(health({ state: 'failed', reason: 'its peer connection failed' }, 'datachannel'));
    expect(d.lane).toBe('none');
    expect(d.label).toBe('none');
    expect(d.detail).toBe(
      "DataChannel failed: its peer connection failed (controlLane 'datachannel': streamed commands wait for it)",
    );
  });
});
