import { Topics } from '@telekit/core';
import { describeTransport } from '@telekit/testkit';
import { RTCPeerConnection } from 'node-datachannel/polyfill';
import { filter, firstValueFrom } from 'rxjs';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { ClientLinkHealth, GatewayClientOptions, WireError } from '../src/client/index.js';
import { packMessage } from '../src/codec.js';
import { type GatewayOptions, signToken } from '../src/index.js';
import { withoutCandidates } from '../src/sdp.js';
import { jwtVerifier } from '../src/server/auth.js';
import { SECRET, startGateway } from './helpers.js';
import { drive, recordingRobot } from './robot.js';

/** node-datachannel's RTCPeerConnection: the WebRTC a browser has, for the client in Node. */
const rtc = (more: Partial<NonNullable<GatewayClientOptions['rtc']>> = {}) => ({
  peerConnection: (c: RTCConfiguration) =>
    new RTCPeerConnection(c) as unknown as globalThis.RTCPeerConnection,
  ...more,
});
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** Waits for a condition with a budget a loaded machine meets (speed is measured in pnpm bench). */
const until = <T>(probe: () => T | Promise<T>) => vi.waitFor(probe, { timeout: 20_000, interval: 20 });

// The DataChannel client against a real gateway passes the transport kit like the socket.io one:
// its feeds, lane rules, reconnect (the DataChannel closes with the connections and opens again)
// and a clean close with no timers left.
describeTransport(
  'gateway client with its DataChannel lane open',
  async () => {
    const g = await startGateway({ rateLimit: { commands: { rate: 10_000, burst: 10_000 } } });
    const client = g.client({ controlLane: 'datachannel', rtc: rtc() });
    return {
      publisher: g.app,
      subscriber: client,
      breakLink: async () => g.gateway.dropConnections(),
      close: () => g.close(),
    };
  },
  { capabilities: { reconnect: true, remote: true }, timeoutMs: 5_000 },
);

let cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanup.reverse()) await c();
  cleanup = [];
});

async function rig(options: Partial<GatewayOptions> = {}) {
  const g = await startGateway({ deadmanMs: 250, ...options });
  const robot = recordingRobot(g.app);
  cleanup.push(async () => {
    robot.stop();
    await g.close();
  });
  const connect = async (opts: Partial<GatewayClientOptions> = {}) => {
    const c = g.client({ rtc: rtc(), ...opts });
    const faults: WireError[] = [];
    c.faults$.subscribe((f) => faults.push(f));
    await c.connect();
    return Object.assign(c, { faults });
  };
  return { g, robot, connect };
}

type Client = Awaited<ReturnType<Awaited<ReturnType<typeof rig>>['connect']>>;
const laneOpen = (c: Client) => firstValueFrom(c.lane$.pipe(filter((l) => l.lane === 'datachannel')));
const nextHealth = (c: Client, test: (h: ClientLinkHealth) => boolean = () => true) =>
  firstValueFrom(c.health$.pipe(filter(test)));
/** The client's DataChannel lane itself (its send, its channel), for tests that break it. */
const laneOf = (c: Client) =>
  (c as unknown as { _dataLane: { send(t: string, m: unknown): boolean; _dc: RTCDataChannel } })._dataLane;

/** Publishes a twist every 20 ms (50 Hz) until stopped. */
function driving(c: Client, x = 0.4) {
  const timer = setInterval(() => c.publish(Topics.twist, drive(x)), 20);
  return () => clearInterval(timer);
}

describe('the DataChannel control lane', () => {
  it('streamed commands go over the DataChannel once it opens, through the same safety chain; link health says so', async () => {
    const { g, robot, connect } = await rig();
    const c = await connect();
    await c.requestControl();
    await laneOpen(c);
    const lanes: string[] = [];
    c.sent$.subscribe((s) => lanes.push(s.lane));
    const stop = driving(c);
    await until(() => expect(robot.moving().length).toBeGreaterThanOrEqual(10));
    stop();
    expect(new Set(lanes)).toEqual(new Set(['datachannel']));
    // The gateway stamps the sender and passes the command through its gate as for socket.io.
    expect(robot.last()?.header.sender).toBe(c.clientId);
    const h = await nextHealth(c, (x) => (x.dataChannel?.commands ?? 0) >= 10);
    expect(h.controlLane).toBe('datachannel');
    expect(h.lane.dataChannel.state).toBe('open');
    expect(h.dataChannel?.state, 'the gateway sees it open too').toBe('open');
    expect(h.lane.dataChannel.rtt?.count, 'the lane measures its own round trip').toBeGreaterThan(0);
    // …and its commands are timed in the latency budget like any other.
    await nextHealth(c, (x) => (x.fates.applied ?? 0) >= 10);
    expect(await g.gateway.metrics.registry.getSingleMetricAsString('telekit_datachannels')).toMatch(
      /telekit_datachannels 1/,
    );
  });

  it('refuses what the gate refuses: a non-holder, a stale command; drops an out-of-order one silently', async () => {
    const { g, robot, connect } = await rig();
    const holder = await connect();
    await holder.requestControl();
    const other = await connect();
    await laneOpen(other);
    other.publish(Topics.twist, drive(0.5));
    await until(() => expect(other.faults.map((f) => f.code)).toContain('E_NOT_HOLDER'));
    await laneOpen(holder);
    holder.publish(Topics.twist, drive(0.5, { stampShift: -10_000 }));
    await until(() => expect(holder.faults.map((f) => f.code)).toContain('E_STALE'));
    expect(robot.moving()).toHaveLength(0);
    // An older seq arriving after a newer one (the lane is unordered): dropped by seq, not applied,
    // counted, and not held against the sender.
    // (Numbers past those of the commands above: a seq the lane has seen is a copy, not reordered.)
    const first = drive(0.5);
    const newer = { ...first, header: { ...first.header, seq: first.header.seq + 10 } };
    const older = { ...drive(0.9), header: { ...newer.header, seq: newer.header.seq - 1 } };
    expect(laneOf(holder).send(Topics.twist.name, newer)).toBe(true);
    await until(() => expect(robot.moving()).toHaveLength(1));
    expect(laneOf(holder).send(Topics.twist.name, older)).toBe(true);
    await until(async () =>
      expect(await g.gateway.metrics.registry.getSingleMetricAsString('telekit_dropped_total')).toMatch(
        /reason="reordered"} 1/,
      ),
    );
    expect(robot.moving().map((t) => t.linear.x)).toEqual([0.5]);
    expect(holder.faults.map((f) => f.code)).not.toContain('E_OUT_OF_ORDER');
  });

  it('sends each streamed command a second time a few ms later; the gateway acts on it once and drops the copy by its seq', async () => {
    const { g, robot, connect } = await rig();
    const duplicates = async () =>
      Number(
        /reason="duplicate"} (\d+)/.exec(
          await g.gateway.metrics.registry.getSingleMetricAsString('telekit_dropped_total'),
        )?.[1] ?? 0,
      );
    // The default: one copy 5 ms after each command.
    const c = await connect();
    await c.requestControl();
    await laneOpen(c);
    c.publish(Topics.twist, drive(0.3));
    await until(async () => expect(await duplicates()).toBe(1));
    expect(robot.moving().map((t) => t.linear.x)).toEqual([0.3]);
    expect(c.faults).toEqual([]);
    // A newer command of the topic before the copy is due replaces it: its own copy goes instead.
    await c.close();
    const d = await connect({ rtc: { ...rtc(), repeatMs: 500 } });
    await d.requestControl();
    await laneOpen(d);
    d.publish(Topics.twist, drive(0.4));
    d.publish(Topics.twist, drive(0.6));
    await until(async () => expect(await duplicates()).toBe(2));
    await sleep(600);
    expect(await duplicates()).toBe(2);
    expect(robot.moving().map((t) => t.linear.x)).toEqual([0.3, 0.4, 0.6]);
    expect(d.faults).toEqual([]);
  });

  it('closed mid-drive: the robot stops at once, the client falls back to socket.io and drives on, then opens a new one', async () => {
    // A deadman that never trips here: the stop can only come from the DataChannel closing.
    const { g, robot, connect } = await rig({ deadmanMs: 60_000 });
    const c = await connect();
    await c.requestControl();
    await laneOpen(c);
    const stop = driving(c);
    cleanup.push(async () => stop());
    await until(() => expect(robot.moving().length).toBeGreaterThan(5));
    const before = robot.twists.length;
    g.gateway.dropDataChannels(c.clientId);
    // The gateway stops what the holder commanded when its DataChannel goes, not at the deadman.
    await until(() =>
      expect(robot.twists.slice(before).some((t) => t.header.sender === 'gateway' && t.linear.x === 0)).toBe(
        true,
      ),
    );
    expect(await g.gateway.metrics.registry.getSingleMetricAsString('telekit_deadman_trips_total')).toMatch(
      /telekit_deadman_trips_total 0/,
    );
    // The client noticed and drives over socket.io.
    await until(() => expect(c.controlLane).toBe('socket.io'));
    const lanes: string[] = [];
    c.sent$.subscribe((s) => lanes.push(s.lane));
    await until(() => expect(lanes).toContain('socket.io'));
    const n = robot.moving().length;
    await until(() => expect(robot.moving().length).toBeGreaterThan(n + 5));
    const h = await nextHealth(c);
    expect(h.controlLane, 'link health names the lane in use').toBe('socket.io');
    // …and a new DataChannel after a back-off.
    await until(() => expect(c.controlLane).toBe('datachannel'));
  });

  it('gone silent mid-drive (its packets lost): the deadman stops the robot, the client falls back', async () => {
    const { g, robot, connect } = await rig();
    const c = await connect({ rtc: rtc({ silenceMs: 600 }) });
    await c.requestControl();
    await laneOpen(c);
    const stop = driving(c);
    cleanup.push(async () => stop());
    await until(() => expect(robot.moving().length).toBeGreaterThan(5));
    // Everything the client sends on it is lost from now on: commands and pings alike.
    const dc = laneOf(c)._dc;
    dc.send = () => {};
    const before = robot.twists.length;
    await until(() =>
      expect(robot.twists.slice(before).some((t) => t.header.sender === 'gateway' && t.linear.x === 0)).toBe(
        true,
      ),
    );
    // The deadman stopped it (commands stopped arriving; nothing closed yet).
    await until(async () =>
      expect(await g.gateway.metrics.registry.getSingleMetricAsString('telekit_deadman_trips_total')).toMatch(
        /telekit_deadman_trips_total [1-9]/,
      ),
    );
    const lanes: string[] = [];
    c.sent$.subscribe((s) => lanes.push(s.lane));
    await until(() => expect(c.controlLane).toBe('socket.io'));
    const n = robot.moving().length;
    await until(() => expect(robot.moving().length).toBeGreaterThan(n + 5));
    expect(lanes).toContain('socket.io');
  });

  it('e-stop is reliable: it latches once even when the DataChannel loses everything', async () => {
    const { robot, connect } = await rig();
    const c = await connect();
    await c.requestControl();
    await laneOpen(c);
    const stop = driving(c);
    cleanup.push(async () => stop());
    await until(() => expect(robot.moving().length).toBeGreaterThan(3));
    // First with a working DataChannel: the engage goes both ways, and latches once.
    c.publish(Topics.estop, { header: { seq: 1, stamp: Date.now(), sender: 'c' }, engage: true });
    await until(() => expect(robot.estops.filter((e) => e.engage)).toHaveLength(1));
    await sleep(100);
    expect(
      robot.estops.filter((e) => e.engage),
      'the second copy is a no-op',
    ).toHaveLength(1);
    await until(() => expect(c.faults.map((f) => f.code)).toContain('E_ESTOP'));
    c.publish(Topics.estop, { header: { seq: 2, stamp: Date.now(), sender: 'c' }, engage: false });
    await until(() => expect(robot.estops).toHaveLength(2));
    // Then with the DataChannel losing every packet: the socket.io copy still latches it.
    laneOf(c)._dc.send = () => {};
    c.publish(Topics.estop, { header: { seq: 3, stamp: Date.now(), sender: 'c' }, engage: true });
    await until(() => expect(robot.estops.filter((e) => e.engage)).toHaveLength(2));
  });

  it('falls back to socket.io by itself when ICE cannot connect, and link health names the lane', async () => {
    const { robot, connect } = await rig();
    // No path for UDP: neither side learns a candidate of the other (the answer's are stripped, and
    // none of this side's is sent), so no candidate pair can ever be checked.
    const c = await connect({
      rtc: rtc({
        openTimeoutMs: 1_000,
        peerConnection: (config) => {
          const pc = new RTCPeerConnection(config);
          const setRemote = pc.setRemoteDescription.bind(pc);
          pc.setRemoteDescription = (d: RTCSessionDescriptionInit) =>
            setRemote({ type: d.type!, sdp: withoutCandidates(d.sdp ?? '').sdp });
          Object.defineProperty(pc, 'onicecandidate', { set() {}, get: () => null });
          // Nor those already in the offer (a loaded machine finishes gathering before the offer
          // is read, and the client then sends them after the answer).
          const local = Object.getOwnPropertyDescriptor(RTCPeerConnection.prototype, 'localDescription')!;
          Object.defineProperty(pc, 'localDescription', {
            get: () => {
              const d = local.get!.call(pc) as RTCSessionDescriptionInit | null;
              return d && { type: d.type, sdp: withoutCandidates(d.sdp ?? '').sdp };
            },
          });
          return pc as unknown as globalThis.RTCPeerConnection;
        },
      }),
    });
    await c.requestControl();
    // Link health (once a second) carries the lane's state and its last failure, however long ago
    // the first try failed (on a loaded machine, before this line ran) and whether it is trying again.
    const failed = await nextHealth(c, (h) =>
      /did not open within 1000 ms|failed/.test(h.lane.dataChannel.reason ?? ''),
    );
    expect(failed.controlLane).toBe('socket.io');
    expect(failed.lane.dataChannel.state).not.toBe('open');
    const stop = driving(c);
    cleanup.push(async () => stop());
    await until(() => expect(robot.moving().length).toBeGreaterThan(5));
    const h = await nextHealth(c);
    expect(h.controlLane).toBe('socket.io');
    expect(h.lane.dataChannel.state).not.toBe('open');
    expect(h.dataChannel?.state).not.toBe('open');
  });

  it('a gateway without the lane: the client stays on socket.io and says why', async () => {
    const { robot, connect } = await rig({ dataChannel: false });
    const c = await connect();
    await c.requestControl();
    const off = await firstValueFrom(
      c.lane$.pipe(filter((l) => /E_NO_DATACHANNEL/.test(l.dataChannel.reason ?? ''))),
    );
    expect(off).toMatchObject({ lane: 'socket.io', dataChannel: { state: 'off' } });
    c.publish(Topics.twist, drive(0.3));
    await until(() => expect(robot.moving()).toHaveLength(1));
  });

  it("controlLane 'datachannel': no DataChannel, no streamed commands (the fault says why); 'socket.io' never opens one", async () => {
    const { robot, connect } = await rig({ dataChannel: false });
    const only = await connect({ controlLane: 'datachannel' });
    await only.requestControl();
    only.publish(Topics.twist, drive(0.3));
    await until(() => expect(only.faults.map((f) => f.message).join()).toMatch(/DataChannel is not open/));
    expect(robot.moving()).toHaveLength(0);
    const plain = await connect({ controlLane: 'socket.io' });
    expect(plain.controlLane).toBe('socket.io');
    await sleep(200);
    expect(plain.controlLane).toBe('socket.io');
  });

  it('a malformed frame on the DataChannel closes it, as on socket.io', async () => {
    const { g, connect } = await rig();
    const c = await connect();
    await laneOpen(c);
    laneOf(c)._dc.send(new Uint8Array([0xc1, 0xff]));
    laneOf(c)._dc.send(packMessage({ not: 'a frame' }) as Uint8Array<ArrayBuffer>);
    await until(() => expect(c.controlLane).toBe('socket.io'));
    expect(await g.gateway.metrics.registry.getSingleMetricAsString('telekit_refused_total')).toMatch(
      /reason="protocol"/,
    );
    // The control connection says why.
    await until(() =>
      expect(c.faults.map((f) => f.message).join('\n')).toMatch(/malformed DataChannel frame: expected/),
    );
  });

  it('a ping flood is answered at most 20 times a second, then costs the flooder its lane — the gateway stays up and others drive on', async () => {
    const { g, robot, connect } = await rig();
    const other = await connect({ controlLane: 'socket.io' });
    const flooder = await connect({ controlLane: 'datachannel' });
    await laneOpen(flooder);
    const dc = laneOf(flooder)._dc;
    let echoes = 0;
    dc.addEventListener('message', () => echoes++);
    // Pings as fast as the channel takes them, until the gateway closes the lane.
    const began = Date.now();
    for (let i = 0; i < 2_000 && dc.readyState === 'open'; i++)
      dc.send(packMessage([1, i]) as Uint8Array<ArrayBuffer>);
    await until(() => expect(flooder.controlLane).toBe('socket.io'));
    // At most 20 echoes in each second the flood touched, however slowly this machine sent it.
    const seconds = Math.ceil((Date.now() - began) / 1000) + 1;
    expect(echoes, `echoes in ${seconds} s`).toBeLessThanOrEqual(20 * seconds);
    expect(await g.gateway.metrics.registry.getSingleMetricAsString('telekit_refused_total')).toMatch(
      /reason="rate"/,
    );
    // Still serving: another client takes control and drives.
    await other.requestControl();
    const stop = driving(other);
    cleanup.push(async () => stop());
    await until(() =>
      expect(robot.moving().filter((t) => t.header.sender !== 'gateway').length).toBeGreaterThan(5),
    );
  });

  it('a role that may publish no streamed command gets no peer connection', async () => {
    const { connect } = await rig({ auth: jwtVerifier({ secret: SECRET }) });
    const viewer = await connect({
      controlLane: 'auto',
      token: await signToken({ sub: 'eve', role: 'viewer' }, { secret: SECRET }),
    });
    const lane = await firstValueFrom(
      viewer.lane$.pipe(filter((l) => /E_FORBIDDEN/.test(l.dataChannel.reason ?? ''))),
    );
    expect(lane).toMatchObject({ lane: 'socket.io', dataChannel: { state: 'off' } });
    expect(lane.dataChannel.reason).toMatch(/role viewer may publish no streamed command/);
  });
});
