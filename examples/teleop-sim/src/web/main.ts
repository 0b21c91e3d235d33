// The demo page: one gateway client for every widget. The token comes in the URL the server
// printed (`?token=…`); without one the gateway must be running with auth off.
import { type Pose, Topics } from '@telekit/core';
import { type ClientLinkHealth, gatewayClient } from '@telekit/gateway/client';
import { BrowserSimulation, type DivergenceReport, SimTopics } from '@telekit/sim-browser';
import { bindClient } from '@telekit/ui-widgets';

const query = new URLSearchParams(location.search);
const token = query.get('token') ?? undefined;
const client = gatewayClient({
  url: location.origin,
  ...(token ? { token } : {}),
  topics: Object.values(SimTopics),
});

const banner = document.getElementById('banner')!;
const say = (text: string | undefined) => {
  banner.textContent = text ?? '';
  banner.classList.toggle('shown', Boolean(text));
};

let pose: Pose | undefined;
let health: ClientLinkHealth | undefined;
client.subscribe(Topics.pose).subscribe((p) => {
  pose = p;
});
client.health$.subscribe((h) => {
  health = h;
});
client.state$.subscribe((s) => {
  if (s.status === 'connected') say(undefined);
  else if (s.status === 'reconnecting' || s.status === 'disconnected')
    say(`gateway ${s.status}${s.reason ? `: ${s.reason}` : ''} — retrying by itself`);
});
const camera = document.querySelector('telekit-camera-viewer');
if (camera && token) camera.token = token;

// The scene also runs in this page when it can (SIM_MODE on the server, `?sim=` here): commands act
// on it at once, the server's snapshots keep it honest, and the 3D view shows it.
const sim = await BrowserSimulation.fromServer({
  transport: client,
  mode: query.get('sim'),
  reportDivergence: () => client.role !== 'viewer',
});
const view = document.querySelector('telekit-sim-view');
const badge = document.getElementById('sim-mode');
let divergence: DivergenceReport | undefined;
sim.divergence$.subscribe((d) => {
  if (d) divergence = d;
});
sim.mode$.subscribe(({ mode, reason }) => {
  if (view) view.source = mode === 'browser' ? 'local' : 'telemetry';
  if (badge) {
    badge.textContent = mode === 'browser' ? 'sim: browser + server' : `sim: ${mode}`;
    badge.title = reason;
  }
});
// Drawn at 30 fps: enough for a 3D view, and half the rendering of every frame (software WebGL
// shares the CPU with the video decoder on small machines).
let drawn = 0;
const draw = (now: number) => {
  if (view && sim.mode.mode === 'browser' && now - drawn >= 33) {
    drawn = now;
    view.setBodies(sim.bodies());
  }
  requestAnimationFrame(draw);
};
requestAnimationFrame(draw);

// The widgets' commands go to the server, and act on the page's simulator too.
bindClient(sim.control(client));
client
  .connect()
  .then(() => sim.start())
  .catch((error: Error) => say(`cannot connect: ${error.message}`));

/** What the page measured, for `--check` and the tests. */
function snapshot() {
  return {
    pose: pose ? { x: pose.position.x, y: pose.position.y, yaw: yaw(pose) } : undefined,
    video: camera?.stats,
    link: health
      ? { rtt: health.rtt, offset: health.offset, inputToActuation: health.inputToActuation }
      : undefined,
    holdsControl: client.holdsControl,
    banner: banner.textContent,
    sim: { mode: sim.mode, divergence },
  };
}
const yaw = (p: Pose) => {
  const q = p.orientation;
  return Math.atan2(2 * (q.w * q.z + q.x * q.y), 1 - 2 * (q.y * q.y + q.z * q.z));
};

declare global {
  interface Window {
    telekit: { client: typeof client; sim: typeof sim; snapshot: typeof snapshot; topics: typeof Topics };
  }
}
window.telekit = { client, sim, snapshot, topics: Topics };
