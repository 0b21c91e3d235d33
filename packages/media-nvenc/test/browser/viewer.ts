// The viewer page of the media tests and benchmarks: mediasoup-client over HTTP signalling (or
// hls.js with `?mode=hls`), reading each presented frame's glass-to-glass stamp.
import { StampReader } from '@telekit/ui-widgets';
import Hls from 'hls.js';
import { Device } from 'mediasoup-client';

declare global {
  interface Window {
    telekitViewer: {
      frames: number;
      width: number;
      height: number;
      error?: string;
      firstFrameMs?: number;
      start: number;
      transportId?: string;
      /** Source → presentation, ms, one per frame whose stamp was read. */
      latencies: number[];
      mode: 'webrtc' | 'hls';
    };
  }
}

async function signal<T>(op: string, body: unknown): Promise<T> {
  const r = await fetch(`/signal/${op}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  const json = (await r.json()) as T & { error?: string };
  if (!r.ok) throw new Error(json.error ?? `signal ${op} failed`);
  return json;
}

async function webrtc(video: HTMLVideoElement, stream: string, state: Window['telekitViewer']) {
  const { rtpCapabilities } = await signal<{ rtpCapabilities: unknown }>('join', { stream });
  const device = new Device();
  await device.load({ routerRtpCapabilities: rtpCapabilities as never });
  const params = await signal<Record<string, unknown>>('transport', {});
  const transport = device.createRecvTransport(params as never);
  state.transportId = transport.id;
  transport.on('connect', ({ dtlsParameters }, ok, fail) => {
    signal('connect', { transport: transport.id, dtlsParameters }).then(() => ok(), fail);
  });
  const info = await signal<Record<string, unknown>>('consume', {
    transport: transport.id,
    stream,
    rtpCapabilities: device.rtpCapabilities,
  });
  const consumer = await transport.consume(info as never);
  video.srcObject = new MediaStream([consumer.track]);
  await signal('resume', { consumer: consumer.id });
}

function hls(video: HTMLVideoElement, src: string, token: string | null, state: Window['telekitViewer']) {
  if (!Hls.isSupported()) throw new Error('hls.js: Media Source Extensions are missing');
  const player = new Hls({
    lowLatencyMode: true,
    liveSyncDurationCount: 1,
    // The gateway lets in the same viewers as on its socket: the token goes with every request.
    xhrSetup: (xhr) => {
      if (token) xhr.setRequestHeader('authorization', `Bearer ${token}`);
    },
  });
  player.on(Hls.Events.ERROR, (_event, data) => {
    if (data.fatal) state.error = `hls: ${data.type} ${data.details}`;
  });
  player.loadSource(src);
  player.attachMedia(video);
}

async function main() {
  const query = new URLSearchParams(location.search);
  const mode = query.get('mode') === 'hls' ? 'hls' : 'webrtc';
  const state: Window['telekitViewer'] = {
    frames: 0,
    width: 0,
    height: 0,
    start: performance.now(),
    latencies: [],
    mode,
  };
  window.telekitViewer = state;
  try {
    const video = document.querySelector('video')!;
    const stream = query.get('stream') ?? 'cam';
    if (mode === 'hls')
      hls(video, query.get('src') ?? `/media/hls/${stream}/index.m3u8`, query.get('token'), state);
    else await webrtc(video, stream, state);
    const stamps = new StampReader();
    const onFrame: VideoFrameRequestCallback = (now, meta) => {
      state.frames++;
      state.width = meta.width;
      state.height = meta.height;
      state.firstFrameMs ??= performance.now() - state.start;
      // Source and page share this machine's clock: no offset.
      const latency = stamps.latency(video, now, meta);
      if (latency !== undefined) state.latencies.push(latency);
      video.requestVideoFrameCallback(onFrame);
    };
    video.requestVideoFrameCallback(onFrame);
    await video.play();
  } catch (error) {
    state.error = String(error);
  }
}

void main();
