// The page: decides where the simulation runs (this browser, or the server), and shows it.
// `?sim=browser|server|auto` overrides the server's SIM_MODE; `?token=` is the operator's token.
import { headerSequence, type Pose, Topics } from '@telekit/core';
import { gatewayClient } from '@telekit/gateway/client';
import { BrowserSimulation, type DivergenceReport, SimTopics } from '@telekit/sim-browser';
import { goalInRobotFrame, waypointPolicy } from '@telekit/sim-browser/policy';
import { bindClient, type TelekitSimView } from '@telekit/ui-widgets';

const query = new URLSearchParams(location.search);
const token = query.get('token') ?? undefined;
const client = gatewayClient({
  url: location.origin,
  ...(token ? { token } : {}),
  topics: Object.values(SimTopics),
});

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const banner = $('banner');
const say = (text: string | undefined) => {
  banner.textContent = text ?? '';
  banner.classList.toggle('shown', Boolean(text));
};
client.state$.subscribe((s) => {
  if (s.status === 'connected') say(undefined);
  else if (s.status === 'reconnecting' || s.status === 'disconnected')
    say(`gateway ${s.status}${s.reason ? `: ${s.reason}` : ''} — retrying by itself`);
});

const sim = await BrowserSimulation.fromServer({
  transport: client,
  mode: query.get('sim'),
  sender: 'page',
  reportDivergence: () => client.role !== 'viewer',
});

const view = $<TelekitSimView & HTMLElement>('local');
const video = $('video') as HTMLElement & { token?: string; stats?: unknown };
if (token) video.token = token;
let divergence: DivergenceReport | undefined;
const corrections = { none: 0, smooth: 0, snap: 0 };
sim.divergence$.subscribe((d) => {
  if (!d) return;
  divergence = d;
  corrections[d.correction]++;
  $('divergence').textContent =
    `divergence at t=${d.time.toFixed(1)} s: max ${(d.max * 1000).toFixed(2)} mm (${d.worst}), mean ${(d.mean * 1000).toFixed(2)} mm · ${d.correction}`;
});
// The widgets send through the simulation's control: commands act here at once and reach the server.
const control = sim.control(client);
bindClient(control);
sim.mode$.subscribe(({ mode: m, reason }) => {
  $('mode').dataset.mode = m;
  $('mode').querySelector('b')!.textContent =
    m === 'browser' ? 'browser simulation' : m === 'server' ? 'server simulation (video)' : m;
  $('reason').textContent = reason;
  const local = m === 'browser';
  view.hidden = !local;
  $('divergence').hidden = !local;
  $('plot').hidden = !local;
  video.hidden = m !== 'server';
  // Video only in server mode: in browser mode the page draws the simulation itself.
  (video as { client?: typeof control }).client = m === 'server' ? control : undefined;
});

// Draw the local simulation every frame.
// Drawn at 30 fps: enough for a 3D view, and half the rendering of every frame.
let drawn = 0;
const draw = (now: number) => {
  // The model the page simulates, drawn as itself (geoms, materials, lights) rather than as boxes.
  const model = sim.simulator?.model;
  if (model && view.model !== model) view.model = model;
  const bodies = now - drawn >= 33 ? sim.bodies() : [];
  if (bodies.length) {
    drawn = now;
    view.setBodies(bodies);
  }
  requestAnimationFrame(draw);
};
requestAnimationFrame(draw);

// The autopilot: the waypoint policy shipped with sim-browser (ONNX, run by onnxruntime-web) turns
// the robot's pose into twists, sent like the operator's (the lease is needed). Observations come
// from the page's simulator in browser mode, from the server's pose telemetry otherwise.
let serverPose: Pose | undefined;
client.subscribe(Topics.pose).subscribe((p) => {
  serverPose = p;
});
let autopilot: { goal: { x: number; y: number }; state: string } | undefined;
$('autopilot').addEventListener('submit', (event) => {
  event.preventDefault();
  const goal = {
    x: Number(($('goal-x') as HTMLInputElement).value),
    y: Number(($('goal-y') as HTMLInputElement).value),
  };
  const say = (state: string) => {
    autopilot = { goal, state };
    $('autopilot-state').textContent = state;
  };
  void (async () => {
    say('loading the policy…');
    const policy = await waypointPolicy({ model: '/sim/policy/waypoint.onnx', wasmPaths: '/sim/ort/' });
    if (!client.holdsControl) await control.requestControl();
    const header = headerSequence(`autopilot-${client.clientId ?? 'page'}`, () => Date.now());
    say('driving');
    for (const deadline = Date.now() + 30_000; Date.now() < deadline; ) {
      const base = sim.simulator?.current().base ?? serverPose;
      if (base) {
        const local = goalInRobotFrame(base, goal);
        if (Math.hypot(local.x, local.y) < 0.15) break;
        control.publish(Topics.twist, { header: header(), ...(await policy.twist(local)) });
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    control.publish(Topics.twist, {
      header: header(),
      linear: { x: 0, y: 0, z: 0 },
      angular: { x: 0, y: 0, z: 0 },
    });
    await policy.close();
    say('arrived');
  })().catch((error: Error) => say(`autopilot failed: ${error.message}`));
});

/** What the page measured, for the tests. */
function snapshot() {
  const local = sim.simulator?.current();
  return {
    mode: sim.mode,
    divergence,
    corrections,
    local: local ? { time: local.time, base: local.base?.position } : undefined,
    video: (video as { stats?: { frames: number; state: string } }).stats,
    autopilot,
    holdsControl: client.holdsControl,
  };
}
/** For tests and the console: `window.telekit`. */
export interface BrowserSimPage {
  client: typeof client;
  sim: typeof sim;
  snapshot: typeof snapshot;
  topics: typeof Topics;
}
(window as unknown as { telekit: BrowserSimPage }).telekit = { client, sim, snapshot, topics: Topics };

await client.connect().catch((error: Error) => say(`cannot connect: ${error.message}`));
await sim.start();
