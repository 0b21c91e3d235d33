// The simulator's camera: `frames$` turns the sidecar's camera on for its first watcher (with the
// default options) and off after its last, unless `camera()` turned it on explicitly; `camera()` and
// `prepareCamera()` are the explicit calls. What is on is kept on the supervisor, so that a
// restarted sidecar renders again.

import type { Frame } from '@telekit/core/contracts';
import { Observable, type Subject, share } from 'rxjs';
import type { SidecarSupervisor } from './sidecar-supervisor.js';
import type { CameraOptions, SidecarSimulator } from './sidecar-types.js';

/** The camera side of a sidecar simulator, over the frames its events bring. */
export function sidecarCamera(
  sup: SidecarSupervisor,
  frames: Subject<Frame>,
  defaults: CameraOptions | undefined,
): Pick<SidecarSimulator, 'frames$' | 'camera' | 'prepareCamera'> {
  let watchers = 0;
  const frames$ = new Observable<Frame>((subscriber) => {
    watchers++;
    const sub = frames.subscribe(subscriber);
    if (watchers === 1 && !sup.cameraConfig) {
      sup.cameraConfig = { ...(defaults ?? { width: 320, height: 240, fps: 30 }), explicit: false };
      void sup
        .call('camera', { enabled: true, ...sup.cameraConfig })
        .catch((error: unknown) => subscriber.error(error));
    }
    return () => {
      sub.unsubscribe();
      watchers--;
      if (watchers === 0 && sup.cameraConfig && !sup.cameraConfig.explicit && !sup.closed) {
        sup.cameraConfig = undefined;
        void sup.call('camera', { enabled: false }).catch(() => undefined);
      }
    };
  }).pipe(share());

  return {
    frames$,
    async camera(opts) {
      if (opts.enabled === false) {
        sup.cameraConfig = undefined;
        await sup.call('camera', { enabled: false });
        return;
      }
      const { enabled: _, ...rest } = opts;
      sup.cameraConfig = { ...rest, explicit: true };
      await sup.call('camera', { enabled: true, ...rest });
    },
    async prepareCamera(opts) {
      await sup.call('camera', { ...opts, enabled: true, prepare: true });
    },
  };
}
