// A minimal viewer page script for the tests: mediasoup-client over HTTP signalling.
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

async function main() {
  const state: Window['telekitViewer'] = { frames: 0, width: 0, height: 0, start: performance.now() };
  window.telekitViewer = state;
  try {
    const stream = new URLSearchParams(location.search).get('stream') ?? 'cam';
    const { rtpCapabilities } = await signal<{ rtpCapabilities: unknown }>('join', { stream });
    const device = new Device();
    await device.load({ routerRtpCapabilities: rtpCapabilities as never });
    const params = await signal<Record<string, unknown>>('transport', {});
    const transport = device.createRecvTransport(params as never);
    transport.on('connect', ({ dtlsParameters }, ok, fail) => {
      signal('connect', { transport: transport.id, dtlsParameters }).then(() => ok(), fail);
    });
    const info = await signal<Record<string, unknown>>('consume', {
      transport: transport.id,
      stream,
      rtpCapabilities: device.rtpCapabilities,
    });
    const consumer = await transport.consume(info as never);
    const video = document.querySelector('video')!;
    video.srcObject = new MediaStream([consumer.track]);
    await signal('resume', { consumer: consumer.id });
    await video.play();
    const onFrame = () => {
      state.frames++;
      state.width = video.videoWidth;
      state.height = video.videoHeight;
      state.firstFrameMs ??= performance.now() - state.start;
      video.requestVideoFrameCallback(onFrame);
    };
    video.requestVideoFrameCallback(onFrame);
  } catch (error) {
    state.error = String(error);
  }
}

void main();
