// The demo page: one gateway client for every widget. The token comes in the URL the server
// printed (`?token=…`); without one the gateway must be running with auth off.
import { type Pose, Topics } from '@telekit/core';
import { type ClientLinkHealth, gatewayClient } from '@telekit/gateway/client';
import { bindClient } from '@telekit/ui-widgets';

const query = new URLSearchParams(location.search);
const token = query.get('token') ?? undefined;
const session = sessionStorage.getItem('telekit-session') ?? crypto.randomUUID().slice(0, 8);
sessionStorage.setItem('telekit-session', session);
const client = gatewayClient({ url: location.origin, ...(token ? { token } : {}), session });

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
bindClient(client);
client.connect().catch((error: Error) => say(`cannot connect: ${error.message}`));

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
  };
}
const yaw = (p: Pose) => {
  const q = p.orientation;
  return Math.atan2(2 * (q.w * q.z + q.x * q.y), 1 - 2 * (q.y * q.y + q.z * q.z));
};

declare global {
  interface Window {
    telekit: { client: typeof client; snapshot: typeof snapshot; topics: typeof Topics };
  }
}
window.telekit = { client, snapshot, topics: Topics };
