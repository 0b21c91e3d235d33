import { silentLogger, systemClock } from '@telekit/core';
import { cameraSource, sidecarSimulator } from '@telekit/sim-genesis';
import { chooseEncoder, createSfu, createWorker, freeTcpPort, SupervisedEncoder } from '../../src/index.js';
const now = () => systemClock.now();
let T0 = 0;
const worker = await createWorker();
const sfu = await createSfu({ worker });
const stream = await sfu.addStream('cam');
const sim = sidecarSimulator({ logger: { ...silentLogger, warn: (l: string) => { if (l.startsWith('DBG')) console.log((now() - T0).toFixed(0), l, (Number(process.hrtime.bigint())/1e9).toFixed(3)); } } as any, perfEveryMs: 100 });
await sim.loadScene({ id: 'diff-drive' });
await sim.run({ stateHz: 20 });
const src = cameraSource(sim, 'cam', { camera: 'overview', width: 640, height: 480, fps: 30 });
const port = await freeTcpPort();
const { encoder } = await chooseEncoder('auto');
const enc = new SupervisedEncoder({ encoder, profile: { width: 640, height: 480, fps: 30, bitrateKbps: 1500, gopSeconds: 1 }, input: { kind: 'tcp', port, format: 'rgb' }, rtp: { ...stream.ingest }, logger: silentLogger, autoStart: false, rtpSequence: (() => { let next = 1000; let counted: number|undefined; return async () => { const r = (await stream.producer.getStats())[0]?.packetCount ?? 0; if (counted !== undefined) next = (next + r - counted) & 0xffff; counted = r; return next; }; })() });
sfu.followEncoder('cam', enc.status$);
let firstKey = 0; let firstRtp = 0; let firstInfo: any;
await stream.producer.enableTraceEvent(['keyframe', 'rtp']);
stream.producer.on('trace', (tr) => { if (!firstRtp) { firstRtp = now(); firstInfo = { type: tr.type, ...(tr.info as any) }; } if (tr.type === 'keyframe' && !firstKey) firstKey = now(); });
let firstSent: any;
const all: any[] = [];
src.timings$.subscribe((f) => { all.push(f); if (!firstSent || f.seq < firstSent.seq) firstSent = firstSent ?? f; });
for (let round = 0; round < 4; round++) {
  firstKey = 0; firstRtp = 0; firstSent = undefined;
  const t0 = now(); T0 = t0;
  const [a, b] = await Promise.all([
    enc.start().then(() => now() - t0),
    src.sendTo!(`tcp:127.0.0.1:${port}`).then((stop) => ({ stop, at: now() - t0 })),
  ]);
  while (!firstKey && now() - t0 < 5000) await new Promise((r) => setTimeout(r, 5));
  await new Promise((r) => setTimeout(r, 1500));
  console.log(`round ${round}: encoder spawned +${a.toFixed(0)} ms, camera on (validation render) +${b.at.toFixed(0)} ms, first frame rendered +${firstSent ? (firstSent.capturedAt - t0).toFixed(0) : '?'} sent +${firstSent ? (firstSent.sentAt - t0).toFixed(0) : '?'} (index ${firstSent?.index}), first keyframe at SFU +${(firstKey - t0).toFixed(0)} ms, first rtp +${(firstRtp - t0).toFixed(0)} ${JSON.stringify(firstInfo)}`);
  console.log('frames', all.filter((f) => f.sentAt >= t0).slice(0, 8).map((f) => `${f.index}@${(f.sentAt - t0).toFixed(0)}`).join(' '), 'perf', JSON.stringify(sim.perf?.camera));
  all.length = 0;
  await b.stop(); await enc.stop();
  await new Promise((r) => setTimeout(r, 500));
}
await enc.close(); await sim.close(); sfu.close(); worker.close();
