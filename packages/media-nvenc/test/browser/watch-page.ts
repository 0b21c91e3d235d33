// A page that opens the server's video only when asked (as the demo does in browser mode): the
// gateway client connects at once; `window.telekitWatch.open()` adds a <telekit-camera-viewer>.
import { gatewayClient } from '@telekit/gateway/client';
import { type CameraViewerStats, type TelekitCameraViewer, VIDEO_STAGES } from '@telekit/ui-widgets';

declare global {
  interface Window {
    telekitWatch: {
      connected: boolean;
      open(stream: string): void;
      close(): void;
      pause(paused: boolean): void;
      stats(): CameraViewerStats | undefined;
    };
  }
}

const client = gatewayClient({ url: location.origin });
let viewer: TelekitCameraViewer | undefined;
window.telekitWatch = {
  connected: false,
  open(stream) {
    if (viewer) return;
    viewer = document.createElement('telekit-camera-viewer');
    viewer.stream = stream;
    viewer.mode = 'webrtc';
    viewer.client = client;
    document.body.append(viewer);
  },
  close() {
    viewer?.remove();
    viewer = undefined;
  },
  pause(paused) {
    if (viewer) viewer.paused = paused;
  },
  stats: () => viewer?.stats,
};
client.state$.subscribe((s) => {
  window.telekitWatch.connected = s.status === 'connected';
});
void client.connect();
void VIDEO_STAGES;
