// The events a sidecar pushes on its connection, read into core's shapes and handed to whoever
// wants them: the state it stepped to, a camera frame, a command's fate (one without a known fate
// is logged and dropped), and the progress of a scene load. A `deadman` event needs nothing here:
// the sidecar logs each trip itself.

import type { Header, Logger } from '@telekit/core';
import type { Frame, SimAction } from '@telekit/core/contracts';
import type { CommandFate } from '@telekit/core/schemas';
import type { SidecarEvent } from './sidecar-connection.js';
import type { SidecarActuation, SidecarProgress, SidecarState } from './sidecar-types.js';
import { FATES, KINDS, toState, type WireState } from './sidecar-wire.js';

/** Where each kind of event goes. */
export interface SidecarEventSinks {
  state(s: SidecarState): void;
  frame(f: Frame): void;
  actuation(a: SidecarActuation): void;
  progress(p: SidecarProgress): void;
  log: Logger;
}

/** Makes the handler of a connection's `events$`. */
export function sidecarEventHandler(sinks: SidecarEventSinks): (e: SidecarEvent) => void {
  const { log } = sinks;
  return (e) => {
    switch (e.event) {
      case 'state': {
        sinks.state(toState((e as unknown as { state: WireState }).state));
        break;
      }
      case 'frame': {
        const data = e.data as Uint8Array;
        sinks.frame({
          width: e.width as number,
          height: e.height as number,
          format: e.format === 'rgb' ? 'rgb' : 'rgba',
          timestamp: e.timestamp as number,
          seq: e.seq as number,
          data,
        });
        break;
      }
      case 'actuation': {
        if (typeof e.fate !== 'string' || !FATES.has(e.fate)) {
          log.warn('the sidecar reported a command without a known fate', { fate: String(e.fate) });
          break;
        }
        sinks.actuation({
          command: e.command as Header,
          fate: e.fate as CommandFate,
          at: e.at as number,
          simTime: e.simTime as number,
          ...(typeof e.receivedAt === 'number' ? { receivedAt: e.receivedAt } : {}),
          ...(typeof e.appliedSimTime === 'number' ? { appliedSimTime: e.appliedSimTime } : {}),
          ...(typeof e.kind === 'string' && KINDS.has(e.kind) ? { kind: e.kind as SimAction['kind'] } : {}),
        });
        break;
      }
      case 'progress': {
        sinks.progress({
          scene: String(e.scene),
          phase: String(e.phase),
          message: String(e.message),
          elapsedMs: Number(e.elapsedMs) || 0,
          ...(e.repeat === true ? { repeat: true } : {}),
        });
        break;
      }
      default:
        // `deadman`: the sidecar logs each trip itself (its log comes out under this plugin's name).
        break;
    }
  };
}
