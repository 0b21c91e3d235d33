// One camera viewer, imported by itself, in the mode the URL asks for (`?mode=hls|webrtc`): the page
// of camera-viewer-page.test.ts, bundled and served by webPage as an app's page is.
import { gatewayClient } from '@telekit/gateway/client';
import type { CameraViewerStats } from '@telekit/ui-widgets/camera-viewer';

declare global {
  interface Window {
    viewerStats(): CameraViewerStats | undefined;
  }
}

const viewer = document.querySelector('telekit-camera-viewer')!;
viewer.mode = new URLSearchParams(location.search).get('mode') === 'hls' ? 'hls' : 'webrtc';
window.viewerStats = () => viewer.stats;
// The element's definition comes after the page's first paint, as a large page's would.
await import('@telekit/ui-widgets/camera-viewer');
const client = gatewayClient({ url: location.origin });
viewer.client = client;
await client.connect();
