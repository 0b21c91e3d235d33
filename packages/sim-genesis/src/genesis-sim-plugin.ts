import {
  actuationReport,
  type Header,
  headerSequence,
  type MediaSource,
  MediaSourcesToken,
  type Plugin,
  SimulatorToken,
  type Topic,
  Topics,
  TransportToken,
} from '@telekit/core';
import type { Frame, SceneInfo, SceneSpec, SimAction } from '@telekit/core/contracts';
import { EStopLatch } from '@telekit/core/safety';
import type { CommandFate } from '@telekit/core/schemas';
import { defer, EMPTY, Observable, Subject, type Subscription, share, takeUntil } from 'rxjs';
import type { FrameTiming } from './sidecar-perf.js';
import {
  type CameraOptions,
  type SidecarSimulator,
  type SidecarSimulatorOptions,
  type SidecarState,
  sidecarSimulator,
} from './sidecar-simulator.js';

/** Telemetry rates, Hz (0 turns a topic off). */
export interface TelemetryRates {
  pose?: number;
  jointState?: number;
  imu?: number;
  simState?: number;
}

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

const DEFAULT_RATES: Required<TelemetryRates> = { pose: 20, jointState: 20, imu: 50, simState: 5 };

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
      ctx.provide(SimulatorToken, s);
      if (camera) {
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

      const next = headerSequence('@telekit/sim-genesis', ctx.clock.now);
      const estop = new EStopLatch({ clock: ctx.clock });
      // Every command gets one /telemetry/actuation report with its fate: from the sidecar for those
      // it was sent, from here for those this plugin dropped (the e-stop latched, no base).
      const report = (
        topic: Topic,
        command: Header,
        fate: CommandFate,
        at = ctx.clock.now(),
        receivedAt?: number,
        simTime?: number,
      ) => {
        try {
          // When the sidecar received it (the gateway splits input→actuation there: trip, then
          // step) and the simulated time it acted from (a browser simulation puts it there).
          transport.publish(Topics.actuation, {
            ...actuationReport(topic, command, next(), at, fate),
            ...(receivedAt === undefined ? {} : { receivedAt }),
            ...(simTime === undefined ? {} : { simTime }),
          });
        } catch (error) {
          ctx.logger.error('an actuation report did not validate', {
            error: String(error),
            topic: topic.name,
          });
        }
      };
      // The deadline travels with the command: the header's ttl, or the topic's default.
      const withDeadline = (topic: Topic, header: Header): Header =>
        header.ttl === undefined ? { ...header, ttl: topic.ttl } : header;

      transport
        .subscribe(Topics.twist)
        .pipe(takeUntil(ctx.stop$))
        .subscribe((t) => {
          if (estop.latched) return report(Topics.twist, t.header, 'estop');
          if (!info?.hasBase) return report(Topics.twist, t.header, 'refused');
          s.act(
            { kind: 'twist', linear: t.linear, angular: t.angular },
            withDeadline(Topics.twist, t.header),
          );
        });
      transport
        .subscribe(Topics.joints)
        .pipe(takeUntil(ctx.stop$))
        .subscribe((j) => {
          if (estop.latched) return report(Topics.joints, j.header, 'estop');
          if (!info) return report(Topics.joints, j.header, 'refused');
          s.act(
            {
              kind: 'joints',
              name: j.name,
              ...(j.position ? { position: j.position } : {}),
              ...(j.velocity ? { velocity: j.velocity } : {}),
              ...(j.effort ? { effort: j.effort } : {}),
            },
            withDeadline(Topics.joints, j.header),
          );
        });
      transport
        .subscribe(Topics.estop)
        .pipe(takeUntil(ctx.stop$))
        .subscribe((e) => {
          if (e.engage) {
            estop.engage(e.header.sender, e.reason);
            s.act({ kind: 'freeze' }, e.header);
          } else {
            estop.clear(e.header.sender);
            report(Topics.estop, e.header, 'applied');
          }
        });
      transport
        .subscribe(Topics.action)
        .pipe(takeUntil(ctx.stop$))
        .subscribe((a) => {
          const run =
            a.action === 'reset'
              ? s.reset()
              : a.action === 'pause'
                ? s.pause()
                : a.action === 'resume'
                  ? s.run({ stateHz: stateHz() })
                  : undefined;
          if (!run) {
            ctx.logger.warn('unknown action', { action: a.action, supported: 'reset, pause, resume' });
            return report(Topics.action, a.header, 'refused');
          }
          run.then(
            () => report(Topics.action, a.header, 'applied'),
            (error: unknown) => {
              ctx.logger.error('action failed', { action: a.action, error: String(error) });
              report(Topics.action, a.header, 'refused');
            },
          );
        });

      const topicOf: Record<SimAction['kind'], Topic> = {
        twist: Topics.twist,
        joints: Topics.joints,
        freeze: Topics.estop,
      };
      s.actuations$.pipe(takeUntil(ctx.stop$)).subscribe((a) => {
        // Every act from here has a kind; a report without one is not about a command of ours.
        if (a.kind) report(topicOf[a.kind], a.command, a.fate, a.at, a.receivedAt, a.appliedSimTime);
      });

      const last = { pose: 0, jointState: 0, imu: 0, simState: 0 };
      const due = (key: keyof typeof last, now: number) => {
        const hz = rates[key];
        if (!hz || now - last[key] < 1000 / hz - 1) return false;
        last[key] = now;
        return true;
      };
      (s.state$ as Observable<SidecarState>).pipe(takeUntil(ctx.stop$)).subscribe((st) => {
        const now = ctx.clock.now();
        try {
          if (st.base && due('pose', now))
            transport.publish(Topics.pose, { header: next(), frame: 'world', ...st.base });
          if (st.joints.name.length > 0 && due('jointState', now)) {
            transport.publish(Topics.jointState, {
              header: next(),
              name: [...st.joints.name],
              position: [...st.joints.position],
              velocity: [...st.joints.velocity],
            });
          }
          if (st.imu && due('imu', now)) transport.publish(Topics.imu, { header: next(), ...st.imu });
          if (due('simState', now)) {
            transport.publish(Topics.simState, {
              header: next(),
              scene: st.scene,
              time: st.time,
              step: st.step,
              realtimeFactor: st.realtimeFactor,
              paused: false,
              bodies: st.bodies
                .slice(0, 256)
                .map((b) => ({ name: b.name, position: b.position, orientation: b.orientation })),
            });
          }
        } catch (error) {
          ctx.logger.error('telemetry from the simulator did not validate', { error: String(error) });
        }
      });

      const stateHz = () => Math.max(rates.pose, rates.jointState, rates.imu, rates.simState, 1);
      // What the scene looks like, once per loaded scene: a page's 3D view draws it in server mode
      // (a late subscriber gets it: the telemetry lane keeps the last one).
      const describe = async () => {
        try {
          const description = await s.sceneDescription();
          transport.publish(Topics.simScene, { header: next(), ...description });
        } catch (error) {
          ctx.logger.warn('the scene description was not published: pages draw boxes', {
            error: String(error),
          });
        }
      };
      const start = async (i: SceneInfo) => {
        await s.run({ stateHz: stateHz() });
        ctx.logger.info('simulator running', { scene: i.id, engine: s.engine, timestep: i.timestep });
        void describe();
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
