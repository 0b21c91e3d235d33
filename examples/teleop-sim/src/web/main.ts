// The demo page: one gateway client for every widget. The token comes in the URL the server
// printed (`?token=…`); without one the gateway must be running with auth off.
import { type Feed, type Pose, type Topic, Topics } from '@telekit/core';
import { type ClientLinkHealth, gatewayClient } from '@telekit/gateway/client';
import { RecorderTopics } from '@telekit/recorder/topics';
import { BrowserSimulation, type DivergenceReport, SimTopics } from '@telekit/sim-browser';
import { bindClient, type CameraViewerStats, type TelekitCameraViewer } from '@telekit/ui-widgets';
import { auditTime } from 'rxjs';

const query = new URLSearchParams(location.search);
const token = query.get('token') ?? undefined;
/** `?debug=stamp,…`: what to show that an operator does not need. */
const debug = new Set((query.get('debug') ?? '').split(',').filter(Boolean));
const client = gatewayClient({
  url: location.origin,
  ...(token ? { token } : {}),
  // The recorder's, for <telekit-recorder> (shown when the server records: `--record DIR`).
  topics: [...Object.values(SimTopics), ...Object.values(RecorderTopics)],
  // Streamed commands over a WebRTC DataChannel once it opens (the gateway offers one by default),
  // over socket.io until then and by itself whenever it cannot (no UDP, a proxy, failed ICE).
  // <telekit-link-health> shows which lane, and why not the DataChannel.
  controlLane: 'auto',
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
// What the gateway refused of this page's messages, by code (for --check and the tests).
const faults: Record<string, number> = {};
client.faults$.subscribe((f) => {
  faults[f.code] = (faults[f.code] ?? 0) + 1;
});
client.state$.subscribe((s) => {
  if (s.status === 'connected') say(undefined);
  else if (s.status === 'reconnecting' || s.status === 'disconnected')
    say(`gateway ${s.status}${s.reason ? `: ${s.reason}` : ''} — retrying by itself`);
});

// The scene also runs in this page when it can (SIM_MODE on the server, `?sim=` here): commands act
// on it at once, the server's snapshots keep it honest, and the 3D view shows it.
const sim = await BrowserSimulation.fromServer({
  transport: client,
  mode: query.get('sim'),
  reportDivergence: () => client.role !== 'viewer',
});
// The widgets' commands go to the server, and act on the page's simulator too.
const control = sim.control(client);

// ------------------------------------------------------------------------------------ the page's load
// Long tasks on the main thread delay every input event; the gateway's figure for this page's
// `input` stage says how late its commands actually left. Both tell the 3D view to yield.
const longTasks = { count: 0, longestMs: 0, recent: [] as { at: number; ms: number }[] };
try {
  new PerformanceObserver((list) => {
    for (const e of list.getEntries()) {
      longTasks.count++;
      longTasks.longestMs = Math.max(longTasks.longestMs, e.duration);
      longTasks.recent.push({ at: e.startTime, ms: e.duration });
      view?.inputLag(e.duration);
    }
    const from = performance.now() - 5_000;
    longTasks.recent = longTasks.recent.filter((t) => t.at >= from);
  }).observe({ type: 'longtask', buffered: false });
} catch {
  // No Long Tasks API here (Firefox, Safari): the gateway's input figure still feeds the view.
}
// Each command's own input → send delay, as it leaves: the 3D view yields at once when it grows.
// (And the commands counted by the lane they left on, for --check and the tests.)
const sentByLane: Record<string, number> = {};
client.sent$.subscribe((c) => {
  sentByLane[c.lane] = (sentByLane[c.lane] ?? 0) + 1;
  if (c.inputAt !== undefined) view?.inputLag(c.sentAt - c.inputAt);
});
const loadBadge = document.getElementById('page-load');
client.health$.subscribe((h) => {
  health = h;
  const input = h.budget.stages.find((s) => s.stage === 'input');
  // The page's simulation applies each command when the server will: after the trip and the wait
  // for the step, as the gateway measures them for this page.
  const trip = h.budget.stages
    .filter(
      (s) => s.stage === 'network' || s.stage === 'gate' || s.stage === 'forward' || s.stage === 'apply',
    )
    .reduce((sum, s) => sum + s.p50, 0);
  if (trip > 0) sim.commandDelayMs = trip;
  if (loadBadge) {
    const late = input?.p99 ?? 0;
    loadBadge.textContent = input ? `page: input → send p99 ${late.toFixed(1)} ms` : 'page: —';
    loadBadge.classList.toggle('busy', late > 16);
    loadBadge.title = input
      ? late > 16
        ? `This page is busy: its commands left up to ${late.toFixed(0)} ms after your input (p99, last ${h.budget.windowMs / 1000} s). The 3D view lowers its quality or pauses first; closing the video helps too.`
        : `Commands leave this page within ${late.toFixed(1)} ms of your input (p99, last ${h.budget.windowMs / 1000} s).`
      : 'No commands sent lately.';
  }
});

// ------------------------------------------------------------------------------------ the 3D view
const view = document.querySelector('telekit-sim-view');
const badge = document.getElementById('sim-mode');
let divergence: DivergenceReport | undefined;
// The worst of the last 10 s too, not only the latest: a drive's divergence shows while it lasts.
let divergences: { at: number; max: number }[] = [];
sim.divergence$.subscribe((d) => {
  if (!d) return;
  divergence = d;
  const now = performance.now();
  divergences = [...divergences.filter((x) => x.at > now - 10_000), { at: now, max: d.max }];
});
if (view)
  view.bodies = () => {
    // In browser mode the view draws the model this page simulates (its geoms, not boxes).
    const model = sim.simulator?.model;
    if (model && view.model !== model) view.model = model;
    return sim.bodies();
  };

// ------------------------------------------------------------------------------------ video on demand
// In browser mode the page draws its own simulation: the operator asks for the server's video only
// when they open it (and the server renders and encodes only while someone watches). Viewers and
// server mode keep it on.
// (The widget pages, `/widgets/<tag>`, run this script too, without the camera panel.)
const slot = document.getElementById('camera-slot');
const toggle = document.getElementById('video-toggle') as HTMLButtonElement | null;
const note = document.getElementById('video-note');
let camera: TelekitCameraViewer | undefined = document.querySelector('telekit-camera-viewer') ?? undefined;
if (camera && token) camera.token = token;
let videoOpenedAt: number | undefined;
// `?video=closed`: start with the video closed even where it would open by itself (server mode, a
// viewer) — a phone on a metered link; the button still opens it.
let userClosed = query.get('video') === 'closed';
const closedStats: CameraViewerStats = {
  mode: 'none',
  state: 'starting',
  frames: 0,
  fps: 0,
  bitrateKbps: 0,
  glassToGlassP50: null,
  jitterMs: null,
};

function openVideo(): void {
  if (camera || !slot || !toggle) return;
  camera = document.createElement('telekit-camera-viewer');
  camera.stream = 'sim-camera';
  if (token) camera.token = token;
  // `?debug=stamp`: show the glass-to-glass stamp the viewer reads (cropped off the picture otherwise).
  if (debug.has('stamp')) camera.showStamp = true;
  camera.client = control;
  slot.append(camera);
  videoOpenedAt = performance.now();
  toggle.textContent = 'Close video';
  toggle.setAttribute('aria-expanded', 'true');
  showVideoNote();
}

function closeVideo(): void {
  if (!slot || !toggle) return;
  camera?.remove();
  camera = undefined;
  videoOpenedAt = undefined;
  toggle.textContent = 'Open video';
  toggle.setAttribute('aria-expanded', 'false');
  showVideoNote();
}

function showVideoNote(): void {
  if (!note) return;
  const browser = sim.mode.mode === 'browser';
  note.textContent = camera
    ? browser
      ? 'the server’s camera (the 3D view shows this page’s own simulation)'
      : 'the server’s camera'
    : browser
      ? 'closed: this page simulates the scene itself, so the server sends no video until you open it'
      : 'closed';
}

toggle?.addEventListener('click', () => {
  if (camera) {
    userClosed = true;
    closeVideo();
  } else {
    userClosed = false;
    openVideo();
  }
});

/** Video is on by default for viewers and in server mode; in browser mode only when asked for. */
function chooseVideo(): void {
  const mode = sim.mode.mode;
  if (mode === 'starting' || !toggle) return;
  toggle.hidden = false;
  if ((mode === 'server' || client.role === 'viewer') && !userClosed) openVideo();
  showVideoNote();
}

sim.mode$.subscribe(({ mode, reason }) => {
  if (view) view.source = mode === 'browser' ? 'local' : 'telemetry';
  if (badge) {
    badge.textContent = mode === 'browser' ? 'sim: browser + server' : `sim: ${mode}`;
    badge.title = reason;
  }
  chooseVideo();
});

bindClient(control);
// The plot redraws its canvas for every sample it gets, and every redraw is a frame for the
// browser's compositor: at the pose's 20 Hz that was most of what the page cost it (software GL
// here) and it delayed the operator's commands. A position plot over 15 s needs two points a second.
const plot = document.querySelector('telekit-telemetry-plot');
if (plot) plot.client = sampled(control, 500);

/** The client, with every subscription thinned to at most one sample per `ms` (the latest). */
function sampled<T extends typeof control>(c: T, ms: number): T {
  return new Proxy(c, {
    get(target, key) {
      if (key === 'subscribe')
        return <M>(topic: Topic<M>, opts?: { depth?: number }) => {
          const feed = target.subscribe(topic, opts);
          return Object.assign(feed.pipe(auditTime(ms)), {
            topic: feed.topic,
            stats: () => feed.stats(),
          }) as Feed<M>;
        };
      const value = Reflect.get(target, key);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}
client
  .connect()
  .then(() => sim.start())
  .then(() => chooseVideo())
  .catch((error: Error) => say(`cannot connect: ${error.message}`));

/** The largest divergence reported since `mark` (this page's `performance.now()`), m, or null. */
function worstDivergenceSince(mark: number): number | null {
  return divergences
    .filter((x) => x.at >= mark)
    .reduce<number | null>((m, x) => Math.max(m ?? 0, x.max), null);
}

/** What the page measured, for `--check` and the tests. */
function snapshot() {
  return {
    pose: pose ? { x: pose.position.x, y: pose.position.y, yaw: yaw(pose) } : undefined,
    video: camera?.stats ?? closedStats,
    videoOpen: camera !== undefined,
    videoOpenedMsAgo: videoOpenedAt === undefined ? null : performance.now() - videoOpenedAt,
    link: health
      ? {
          rtt: health.rtt,
          offset: health.offset,
          inputToActuation: health.inputToActuation,
          budget: health.budget,
          commandsSent: health.commandsSent,
        }
      : undefined,
    lane: {
      controlLane: client.controlLane,
      dataChannel: health?.lane.dataChannel ?? null,
      gateway: health?.dataChannel ?? null,
      sent: { ...sentByLane },
    },
    holdsControl: client.holdsControl,
    faults: { ...faults },
    banner: banner.textContent,
    sim: {
      mode: sim.mode,
      divergence,
      worstDivergence10s: divergences
        .filter((x) => x.at > performance.now() - 10_000)
        .reduce<number | null>((m, x) => Math.max(m ?? 0, x.max), null),
    },
    view: view?.stats,
    page: {
      longTasks: longTasks.count,
      longestTaskMs: longTasks.longestMs,
      longTaskMsLast5s: longTasks.recent.reduce((sum, t) => sum + t.ms, 0),
    },
  };
}
const yaw = (p: Pose) => {
  const q = p.orientation;
  return Math.atan2(2 * (q.w * q.z + q.x * q.y), 1 - 2 * (q.y * q.y + q.z * q.z));
};

declare global {
  interface Window {
    telekit: {
      client: typeof client;
      sim: typeof sim;
      snapshot: typeof snapshot;
      topics: typeof Topics;
      openVideo: typeof openVideo;
      closeVideo: typeof closeVideo;
      worstDivergenceSince: typeof worstDivergenceSince;
    };
  }
}
window.telekit = { client, sim, snapshot, topics: Topics, openVideo, closeVideo, worstDivergenceSince };
