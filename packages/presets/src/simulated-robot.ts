import type { Plugin } from '@telekit/core';
import { GatewayToken } from '@telekit/gateway';
import { type EncoderName, hlsRoute, nvencMedia } from '@telekit/media-nvenc';
import { type SimMode, SimTopics } from '@telekit/sim-browser';
import { browserSimRoutes, simAuthority } from '@telekit/sim-browser/server';
import { bundledScenes, type GenesisSimOptions, genesisSim } from '@telekit/sim-genesis';

/** Options of {@link simulatedRobot}. */
export interface SimulatedRobotOptions {
  /** A bundled scene (`diff-drive`, `arm`) or a path to an MJCF file (ending `.xml`). Default `diff-drive`. */
  scene?: string;
  /** The server's engine. Default `mujoco`; `genesis` where it is installed (`telekit-sim setup --genesis`). */
  backend?: 'mujoco' | 'genesis';
  /**
   * The simulator's camera, streamed as video (`sim-camera`, encoded only while someone watches), or
   * `false` for none. Default 640×480 at 30 fps from the scene's `overview` camera.
   */
  camera?: { width: number; height: number; fps: number; camera?: string } | false;
  /** The video encoder. Default `auto`: NVENC where it works, libx264 otherwise. */
  encoder?: EncoderName;
  /**
   * Where pages simulate too: `auto` (default) runs the scene in a browser that keeps up — commands
   * act there at once, corrected by the server's snapshots — `browser` always, `server` never.
   */
  simMode?: SimMode;
  /** Authority snapshots to the pages per second. Default 10. */
  snapshotHz?: number;
  /** More options of the simulator plugin (telemetry rates, deadman, render threads…). */
  simulator?: Omit<GenesisSimOptions, 'scene' | 'backend' | 'camera'>;
}

/** The name of the plugin that mounts the pages' simulation routes on the gateway. */
export const PAGE_SIMULATION_PLUGIN = '@telekit/presets/page-simulation';

/**
 * A simulated robot, as plugins to put beside a gateway: the server's simulator in its sidecar
 * (`genesisSim`), its camera as a video stream (`nvencMedia`, with its HLS copy served through the
 * gateway by `hlsRoute`), the server as the authority for the
 * pages' own simulation (`simAuthority`), and the routes a page loads that simulation from
 * (`/sim/…`: the scene, the engine), its topics and the operators' grant to report their divergence,
 * mounted on the gateway through `GatewayToken`. The composition every simulated example uses.
 *
 * @example
 * ```ts
 * import { createApp, inProcess } from '@telekit/core';
 * import { gateway, jwtVerifier } from '@telekit/gateway';
 * import { simulatedRobot } from '@telekit/presets';
 * const app = createApp({
 *   plugins: [inProcess(), ...simulatedRobot({ scene: 'diff-drive' }), gateway({ auth: jwtVerifier({ secret }) })],
 * });
 * await app.start();
 * ```
 */
export function simulatedRobot(options: SimulatedRobotOptions = {}): Plugin[] {
  const scene = options.scene ?? 'diff-drive';
  const custom = scene.endsWith('.xml');
  const camera =
    options.camera === false ? undefined : (options.camera ?? { width: 640, height: 480, fps: 30 });
  return [
    genesisSim({
      ...options.simulator,
      backend: options.backend ?? 'mujoco',
      scene: custom ? { id: 'custom', path: scene } : { id: scene },
      ...(camera ? { camera: { camera: 'overview', ...camera } } : {}),
    }),
    simAuthority({ rateHz: options.snapshotHz ?? 10 }),
    ...(camera
      ? [
          nvencMedia({
            streams: [
              {
                id: 'sim-camera',
                label: 'Simulator camera',
                source: 'sim-camera',
                encoder: options.encoder ?? 'auto',
              },
            ],
          }),
          hlsRoute(),
        ]
      : []),
    pageSimulation({ scene, mode: options.simMode ?? 'auto' }),
  ];
}

/**
 * Mounts what a page needs to simulate the scene itself on the running gateway: the routes under
 * `/sim` (config, the scene's files, MuJoCo's WebAssembly engine), the simulation topics, and the
 * operators' and admins' grant to publish their divergence from the server.
 */
function pageSimulation(options: { scene: string; mode: SimMode }): Plugin {
  const custom = options.scene.endsWith('.xml');
  return {
    name: PAGE_SIMULATION_PLUGIN,
    requires: [GatewayToken],
    setup(ctx) {
      const gateway = ctx.resolve(GatewayToken);
      const routes = browserSimRoutes({
        scenes: custom ? { custom: options.scene } : bundledScenes,
        scene: custom ? 'custom' : options.scene,
        mode: options.mode,
      });
      gateway.addTopics(Object.values(SimTopics));
      const removals = [
        gateway.route('/sim/', (req, res) => routes(req, res)),
        gateway.grant(['operator', 'admin'], { publish: [SimTopics.divergence.name] }),
      ];
      return () => {
        for (const remove of removals) remove();
      };
    },
  };
}
