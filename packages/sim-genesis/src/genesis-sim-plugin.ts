import {
  headerSequence,
  type MediaSource,
  MediaSourcesToken,
  type Plugin,
  type PluginContext,
  SimulatorToken,
  TransportToken,
} from '@telekit/core';
import type { Frame, SceneInfo, SceneSpec } from '@telekit/core/contracts';
import { defer, EMPTY, Observable, Subject, type Subscription, share, takeUntil } from 'rxjs';
import { wireCommands } from './genesis-commands.js';
import {
  DEFAULT_RATES,
  publishSceneDescription,
  publishTelemetry,
  stateHzOf,
  type TelemetryRates,
} from './genesis-telemetry.js';
import type { FrameTiming } from './sidecar-perf.js';
import {
  type CameraOptions,
  type SidecarSimulator,
  type SidecarSimulatorOptions,
  sidecarSimulator,
} from './sidecar-simulator.js';

export type { TelemetryRates } from './genesis-telemetry.js';

/** Options of {@link genesisSim}. */
export interface GenesisSimOptions extends Omit<SidecarSimulatorOptions, 'logger' | 'camera'> {
  /** The scene to load: a bundled one (`diff-drive`, `arm`), a path, or MJCF text. */
  scene: SceneSpec;
  /** Defaults: pose 20, joint state 20, IMU 50, sim state 5. */
  rates?: TelemetryRates;
  /** A camera stream, offered to the media plugin as a `MediaSource` under `stream` (default `sim-camera`). */
  camera?: CameraOptions & { stream?: string };
  /**
   * How long setup waits for the scene, ms. A scene that takes longer (Genesis compiling its kernels
   * into an empty cache: minutes on a CPU) goes on loading while the app starts: the simulator
   * refuses commands (fate `refused`) and its health says `warming up` with the load's progress
   * until the scene is ready, then runs. Default 45 000 (the host allows a plugin's setup 60 s).
   */
  readyWithinMs?: number;
}

/**
 * The server simulator as a plugin: loads the scene in a supervised sidecar, runs it in real time,
 * maps the control lane onto it (`/controller/twist` → the base, `/controller/joints` → actuator
 * targets, `/controller/action` `reset`/`pause`/`resume`, `/controller/estop` → freeze) and
 * publishes `/telemetry/pose`, `/telemetry/joint_state`, `/telemetry/imu`, `/telemetry/sim_state`
 * and `/telemetry/actuation` — one report per command with its fate (applied, superseded, expired,
 * estop, refused) — and, once the scene runs, `/telemetry/sim_scene` (what it looks like: the 3D
 * view draws it in server mode).
 *
 * @example
 * ```ts
 * import { createApp, inProcess } from '@telekit/core';
 * import { gateway } from '@telekit/gateway';
 * import { genesisSim } from '@telekit/sim-genesis';
 * const app = createApp({ plugins: [inProcess(), genesisSim({ scene: { id: 'diff-drive' } }), gateway({ auth: 'none' })] });
 * await app.start();
 * ```
 */
export function genesisSim(options: GenesisSimOptions): Plugin {
  let sim: SidecarSimulator | undefined;
  const rates = { ...DEFAULT_RATES, ...options.rates };
  return {
    name: '@telekit/sim-genesis',
    kind: 'simulator',
    requires: [TransportToken],
    provides: options.camera ? [SimulatorToken, MediaSourcesToken] : [SimulatorToken],
    async setup(ctx) {
      const transport = ctx.resolve(TransportToken);
      const { scene, rates: _, camera, readyWithinMs = 45_000, ...simOptions } = options;
      const s = sidecarSimulator({ clock: ctx.clock, ...simOptions, logger: ctx.logger });
      sim = s;
      ctx.onTeardown(() => s.close());
      // The scene, once loaded: until then commands are refused.
      let info: SceneInfo | undefined;
      const loaded = s.loadScene(scene).then((i) => {
        info = i;
        return i;
      });
      const inTime = await loadedWithin(ctx, s, scene, loaded, readyWithinMs);
      ctx.provide(SimulatorToken, s);
      if (camera) provideCamera(ctx, s, camera);

      const next = headerSequence('@telekit/sim-genesis', ctx.clock.now);
      const stateHz = () => stateHzOf(rates);
      wireCommands({ ctx, transport, sim: s, next, info: () => info, stateHz });
      publishTelemetry(ctx, transport, s, rates, next);

      const start = async (i: SceneInfo) => {
        await s.run({ stateHz: stateHz() });
        ctx.logger.info('simulator running', { scene: i.id, engine: s.engine, timestep: i.timestep });
        void publishSceneDescription(ctx, transport, s, next);
      };
      if (inTime) await start(await loaded);
      else
        void loaded.then(start).catch((error: unknown) => {
          if (!ctx.signal.aborted)
            ctx.logger.error('the scene did not load', { scene: scene.id, error: String(error) });
        });
    },
    health() {
      return sim ? sim.health() : { status: 'down', detail: 'not started' };
    },
  };
}

/**
 * Waits up to `readyWithinMs` for the scene: true when it loaded in time. Otherwise it warns with
 * the load's progress and answers false (the scene goes on loading while the app starts).
 */
async function loadedWithin(
  ctx: Pick<PluginContext, 'logger'>,
  s: SidecarSimulator,
  scene: SceneSpec,
  loaded: Promise<SceneInfo>,
  readyWithinMs: number,
): Promise<boolean> {
  loaded.catch(() => undefined);
  const inTime = await Promise.race([
    loaded.then(() => true),
    new Promise<false>((r) => setTimeout(r, readyWithinMs, false).unref()),
  ]);
  if (!inTime)
    ctx.logger.warn(
      'the scene is still loading: the app starts meanwhile, and the simulator runs once it is ready',
      {
        scene: scene.id,
        progress: s.health().detail,
      },
    );
  return inTime;
}

/** Offers the simulator's camera to the media plugin, and prepares its renderer in the background. */
function provideCamera(
  ctx: Pick<PluginContext, 'logger' | 'provide'>,
  s: SidecarSimulator,
  camera: NonNullable<GenesisSimOptions['camera']>,
): void {
  const stream = camera.stream ?? 'sim-camera';
  const source = cameraSource(s, stream, camera);
  ctx.provide(MediaSourcesToken, new Map([[stream, source]]));
  // The renderer is made now, in the background: the first viewer then waits only for a frame.
  const { stream: _, ...options } = camera;
  const { width, height, fps } = source.info;
  s.prepareCamera({ ...options, width, height, fps, format: camera.format ?? 'rgb' }).catch(
    (error: unknown) => ctx.logger.warn('the camera could not be prepared', { error: String(error) }),
  );
}

/**
 * The simulator's camera as a core `MediaSource`: the camera runs only while someone watches —
 * `frames$` turns it on at its first subscriber and off at its last, and `sendTo` turns it on with
 * the sink and its stop function turns it off (the sidecar then renders nothing). Frames are RGB
 * unless `camera.format` says `rgba`. `timings$` reports when each frame sent to a sink was rendered
 * and sent.
 */
export function cameraSource(
  sim: SidecarSimulator,
  name: string,
  camera: CameraOptions,
): MediaSource & { readonly timings$: Observable<FrameTiming> } {
  const width = camera.width ?? 640;
  const height = camera.height ?? 480;
  const fps = camera.fps ?? 30;
  const format = camera.format ?? 'rgb';
  const closed$ = new Subject<void>();
  let closed = false;
  const live$ = new Observable<Frame>((subscriber) => {
    let sub: Subscription | undefined;
    let done = false;
    sim.camera({ ...camera, width, height, fps, format, enabled: true }).then(
      () => {
        if (!done) sub = sim.frames$.subscribe(subscriber);
      },
      (error: unknown) => subscriber.error(error),
    );
    return () => {
      done = true;
      sub?.unsubscribe();
      if (!closed) void sim.camera({ enabled: false }).catch(() => undefined);
    };
  }).pipe(takeUntil(closed$), share());
  return {
    name,
    info: { width, height, fps, format },
    frames$: defer(() => (closed ? EMPTY : live$)),
    timings$: sim.frameTimings$,
    // The sidecar writes the frames to the sink itself (an encoder's TCP input): they never pass
    // through Node.
    async sendTo(sink) {
      await sim.camera({ ...camera, width, height, fps, format, sink, enabled: true });
      return async () => {
        if (!closed) await sim.camera({ enabled: false }).catch(() => undefined);
      };
    },
    async close() {
      if (closed) return;
      closed = true;
      closed$.next();
      closed$.complete();
      await sim.camera({ enabled: false }).catch(() => undefined);
    },
  };
}
