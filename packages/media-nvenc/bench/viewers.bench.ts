/**
 * What viewers cost the server: one 720p30 stream (libx264 here) watched by 1, 5 and 20 viewers.
 * Each viewer is an SRTP-encrypted RTP leg out of the SFU to a UDP socket that counts what arrives,
 * so the SFU does per viewer what it does for a browser (packetising, encryption, RTCP) without 20
 * browsers decoding on the same two cores. Reports the mediasoup worker's resident memory (the
 * figure compared), its CPU share and the encoder's (which should not grow: one encode for all).
 */
import { randomBytes } from 'node:crypto';
import { createSocket, type Socket } from 'node:dgram';
import { readFileSync } from 'node:fs';
import { silentLogger } from '@telekit/core';
import type { BenchMeasurement, Benchmark } from '@telekit/testkit/bench';
import { chooseEncoder, createSfu, createWorker, profiles, SupervisedEncoder } from '../src/index.js';

const WARMUP_MS = 2_000;
const MEASURE_MS = 10_000;

const cpuMs = (pid: number) => {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(f[11]) + Number(f[12])) * 10;
};
const rssBytes = (pid: number) =>
  Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) * 1024;

async function watchers(n: number): Promise<BenchMeasurement> {
  const worker = await createWorker();
  const sfu = await createSfu({ worker });
  const stream = await sfu.addStream('cam');
  const { encoder: name } = await chooseEncoder('auto');
  const encoder = new SupervisedEncoder({
    encoder: name,
    profile: profiles['720p30'],
    input: { kind: 'test-pattern' },
    rtp: { ...stream.ingest },
    logger: silentLogger,
  });
  const sockets: Socket[] = [];
  const received: number[] = [];
  try {
    for (let i = 0; i < n; i++) {
      const socket = createSocket('udp4');
      await new Promise<void>((r) => socket.bind(0, '127.0.0.1', () => r()));
      received.push(0);
      socket.on('message', (m) => {
        received[i]! += m.byteLength;
      });
      sockets.push(socket);
      const leg = await sfu.router.createPlainTransport({
        listenIp: '127.0.0.1',
        rtcpMux: true,
        comedia: false,
        enableSrtp: true,
        srtpCryptoSuite: 'AES_CM_128_HMAC_SHA1_80',
      });
      await leg.connect({
        ip: '127.0.0.1',
        port: socket.address().port,
        srtpParameters: {
          cryptoSuite: 'AES_CM_128_HMAC_SHA1_80',
          keyBase64: randomBytes(30).toString('base64'),
        },
      });
      await leg.consume({ producerId: stream.producer.id, rtpCapabilities: sfu.rtpCapabilities });
    }
    await new Promise((r) => setTimeout(r, WARMUP_MS));
    const encPid = encoder.process!.pid!;
    const w0 = cpuMs(worker.pid);
    const e0 = cpuMs(encPid);
    const r0 = received.map((x) => x);
    await new Promise((r) => setTimeout(r, MEASURE_MS));
    const workerCpu = (cpuMs(worker.pid) - w0) / MEASURE_MS;
    const encoderCpu = (cpuMs(encPid) - e0) / MEASURE_MS;
    const perViewer = received.map((x, i) => ((x - r0[i]!) * 8) / (MEASURE_MS / 1000) / 1e6);
    return {
      bytes: rssBytes(worker.pid),
      extra: {
        'SFU worker CPU': `${(workerCpu * 100).toFixed(1)}%`,
        'encoder CPU': `${(encoderCpu * 100).toFixed(0)}%`,
        'Mbit/s per viewer (min)': Math.min(...perViewer).toFixed(2),
        encoder: name,
      },
    };
  } finally {
    for (const s of sockets) s.close();
    await encoder.close();
    sfu.close();
    worker.close();
  }
}

export const benchmarks: Benchmark[] = [
  {
    id: 'media.viewers-720p30',
    title: 'media-nvenc: one 720p30 stream, 1 / 5 / 20 viewers: SFU worker memory and CPU, encoder CPU',
    kind: 'memory',
    baseline: { name: '1 viewer', run: () => watchers(1) },
    candidates: [
      { name: '5 viewers', run: () => watchers(5) },
      { name: '20 viewers', run: () => watchers(20) },
    ],
  },
];
