import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { canTieChildToParent } from '@telekit/core/node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { alive, descendants, isLoopback, type Proc, socketsOf, until } from './processes.js';

// A media app runs in a Node process of its own (test/fixtures/media-app-child.ts): two encoders
// (ffmpeg) and the SFU's worker. What they bind is read from /proc; then the app is killed with
// SIGKILL, which gives it no chance to clean up: its children must go by themselves.
const root = fileURLToPath(new URL('..', import.meta.url));
const fixture = fileURLToPath(new URL('./fixtures/media-app-child.ts', import.meta.url));
let app: ChildProcess;
let ready: { webRtcPorts: number[] };
let children: Proc[] = [];
const named = (comm: string) => children.filter((c) => c.comm === comm);

beforeAll(async () => {
  app = spawn(process.execPath, ['--conditions=source', '--import', 'tsx', fixture], {
    cwd: root,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const [line] = (await once(app.stdout!, 'data')) as [Buffer];
  ready = JSON.parse(line.toString());
  // The encoders start once their ports are found; wait until both run (and the probes are done).
  await until(() => {
    children = descendants(app.pid!);
    return named('ffmpeg').length === 2 && named('mediasoup-worke').length === 1;
  }, 30_000);
}, 90_000);

afterAll(() => {
  app?.kill('SIGKILL');
  for (const c of children) if (alive(c.pid)) process.kill(c.pid, 'SIGKILL');
});

describe('a media app’s processes', () => {
  it('runs two encoders and one SFU worker, all children of the app', () => {
    expect(named('ffmpeg')).toHaveLength(2);
    expect(named('mediasoup-worke')).toHaveLength(1); // comm is cut at 15 characters
  });

  it('ffmpeg binds every socket to 127.0.0.1: RTP and RTCP out, the raw-frame TCP input', async () => {
    // The test-pattern encoder has its RTP and RTCP sockets open once it encodes.
    let sockets: ReturnType<typeof socketsOf> = [];
    await until(() => {
      sockets = named('ffmpeg').flatMap((f) => socketsOf(f.pid));
      return sockets.filter((s) => s.proto.startsWith('udp')).length >= 2 && sockets.some((s) => s.listening);
    }, 20_000);
    expect(sockets.filter((s) => s.proto.startsWith('udp')).length).toBeGreaterThanOrEqual(2);
    expect(sockets.filter((s) => s.listening)).toHaveLength(1);
    expect(sockets.filter((s) => !isLoopback(s.address))).toEqual([]);
  });

  it('the SFU’s ingest (PlainTransports) listens on 127.0.0.1; WebRTC keeps its configured address', () => {
    const [worker] = named('mediasoup-worke');
    const sockets = socketsOf(worker!.pid);
    const webRtc = sockets.filter((s) => ready.webRtcPorts.includes(s.port));
    const ingest = sockets.filter((s) => !ready.webRtcPorts.includes(s.port));
    expect(webRtc.map((s) => s.address)).toContain('0.0.0.0'); // listenIp 0.0.0.0, for browsers
    expect(ingest.filter((s) => s.proto === 'udp')).toHaveLength(2); // one per stream
    expect(ingest.filter((s) => !isLoopback(s.address))).toEqual([]);
  });

  it('killed with SIGKILL, the app leaves no ffmpeg and no mediasoup worker behind after 2 s', async () => {
    expect(canTieChildToParent()).toBe(true); // Linux with util-linux's setpriv, as here
    const pids = children.map((c) => c.pid);
    expect(pids.every(alive)).toBe(true);
    app.kill('SIGKILL');
    await once(app, 'exit');
    const gone = await until(() => !pids.some(alive), 2_000);
    expect(children.filter((c) => alive(c.pid))).toEqual([]);
    expect(gone).toBe(true);
  });
});
