import type { ClientLinkHealth } from '@telekit/gateway/client';

/** What `<telekit-link-health>` says about the control lane (see {@link describeLane}). */
export interface LaneDescription {
  /**
   * The lane streamed commands (twist, joints, gamepad) leave on: `datachannel`, `socket.io`, or
   * `none` when the client was told to use the DataChannel only and it is not open.
   */
  lane: 'datachannel' | 'socket.io' | 'none';
  /** The lane's name as shown: `DataChannel`, `socket.io`, `none`. */
  label: string;
  /** Why the DataChannel is not in use (absent while it is). */
  why?: string;
  /** What is shown beside the name: the DataChannel's ping round trip, or `why`. */
  detail?: string;
  /** One sentence for the accessible name and the tooltip: `control lane: socket.io — DataChannel failed: …`. */
  summary: string;
}

const E_NO_DATACHANNEL = /\bE_NO_DATACHANNEL\b/;

/**
 * Says which lane a client's streamed commands take and, when it is not the DataChannel, why not,
 * from its link health (`controlLane` and `lane`):
 *
 * 1. DataChannel open: `DataChannel`, with its pings' round trip (p50) when measured.
 * 2. Otherwise the lane is `socket.io` (`none` with `controlLane: 'datachannel'`), and the reason is
 *    the DataChannel's state: opening (again, with the last reason, when it is retried); failed (its reason: did not open in time, ICE failed — no
 *    UDP, a proxy —, it went silent or closed; tried again later); not offered by this client
 *    (`controlLane: 'socket.io'`, no `RTCPeerConnection`); the gateway has none (`E_NO_DATACHANNEL`).
 */
export function describeLane(h: Pick<ClientLinkHealth, 'controlLane' | 'lane'>): LaneDescription {
  const dc = h.lane.dataChannel;
  if (h.controlLane === 'datachannel' && dc.state === 'open') {
    const detail = dc.rtt ? `ping p50 ${dc.rtt.p50.toFixed(1)} ms` : undefined;
    return {
      lane: 'datachannel',
      label: 'DataChannel',
      ...(detail ? { detail } : {}),
      summary: `control lane: DataChannel${detail ? `, ${detail}` : ''}`,
    };
  }
  const reason = dc.reason ? `: ${dc.reason}` : '';
  let why: string;
  // Tried again after a failure, it keeps the last reason: the operator still sees why.
  if (dc.state === 'connecting')
    why = dc.reason ? `DataChannel opening again (${dc.reason})` : 'DataChannel opening';
  else if (dc.state === 'failed') why = `DataChannel failed${reason}`;
  else if (dc.reason && E_NO_DATACHANNEL.test(dc.reason))
    why = 'DataChannel not offered by the gateway (E_NO_DATACHANNEL)';
  else if (h.lane.mode === 'socket.io' || /RTCPeerConnection/.test(dc.reason ?? ''))
    why = `DataChannel not offered${reason}`;
  else if (dc.state === 'open') why = 'DataChannel open, not in use';
  else why = `DataChannel off${reason}`;
  const only = h.lane.mode === 'datachannel';
  const label = only ? 'none' : 'socket.io';
  const detail = only ? `${why} (controlLane 'datachannel': streamed commands wait for it)` : why;
  return {
    lane: only ? 'none' : 'socket.io',
    label,
    why,
    detail,
    summary: `control lane: ${label} — ${detail}`,
  };
}
