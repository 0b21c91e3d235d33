/**
 * The sidecar's state as telemetry, for `genesisSim`: `/telemetry/pose`,
 * `/telemetry/joint_state`, `/telemetry/imu` and `/telemetry/sim_state`, each at its own rate, and
 * `/telemetry/sim_scene` once per loaded scene.
 */
import { type Header, type PluginContext, Topics, type Transport } from '@telekit/core';
import { type Observable, takeUntil } from 'rxjs';
import type { SidecarSimulator, SidecarState } from './sidecar-simulator.js';

/** Telemetry rates, Hz (0 turns a topic off). */
export interface TelemetryRates {
  pose?: number;
  jointState?: number;
  imu?: number;
  simState?: number;
}

export const DEFAULT_RATES: Required<TelemetryRates> = { pose: 20, jointState: 20, imu: 50, simState: 5 };

/** The state rate the simulator runs at: the fastest topic's, at least 1 Hz. */
export const stateHzOf = (rates: Required<TelemetryRates>) =>
  Math.max(rates.pose, rates.jointState, rates.imu, rates.simState, 1);

/**
 * Publishes the simulator's state on the telemetry topics until the app stops, each topic no faster
 * than its rate.
 */
export function publishTelemetry(
  ctx: Pick<PluginContext, 'clock' | 'logger' | 'stop$'>,
  transport: Transport,
  s: SidecarSimulator,
  rates: Required<TelemetryRates>,
  next: () => Header,
): void {
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
}

/**
 * What the scene looks like, once per loaded scene: a page's 3D view draws it in server mode
 * (a late subscriber gets it: the telemetry lane keeps the last one).
 */
export async function publishSceneDescription(
  ctx: Pick<PluginContext, 'logger'>,
  transport: Transport,
  s: SidecarSimulator,
  next: () => Header,
): Promise<void> {
  try {
    const description = await s.sceneDescription();
    transport.publish(Topics.simScene, { header: next(), ...description });
  } catch (error) {
    ctx.logger.warn('the scene description was not published: pages draw boxes', {
      error: String(error),
    });
  }
}
