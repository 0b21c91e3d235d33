import {
  actuationReport,
  type Header,
  headerSequence,
  Topics,
  type Transport,
  type Twist,
} from '@telekit/core';
import type { Subscription } from 'rxjs';

/** A stand-in robot on the app's transport: records the twists it is sent and reports each as actuated. */
export function recordingRobot(app: Transport) {
  const twists: Twist[] = [];
  const estops: { engage: boolean; header: Header }[] = [];
  const next = headerSequence('robot', Date.now);
  const subs: Subscription[] = [
    app.subscribe(Topics.twist).subscribe((t) => {
      twists.push(t);
      app.publish(
        Topics.actuation,
        actuationReport(Topics.twist, t.header, next(), performance.timeOrigin + performance.now()),
      );
    }),
    app.subscribe(Topics.estop).subscribe((e) => estops.push(e)),
  ];
  return {
    twists,
    estops,
    moving: () => twists.filter((t) => t.linear.x !== 0 || t.angular.z !== 0),
    last: () => twists.at(-1),
    stop: () => {
      for (const s of subs) s.unsubscribe();
    },
  };
}

let clientSeq = 0;
/** A fresh twist from a client (the gateway rewrites the sender). */
export function drive(x: number, options: { stampShift?: number } = {}): Twist {
  return {
    header: {
      seq: clientSeq++,
      stamp: performance.timeOrigin + performance.now() + (options.stampShift ?? 0),
      sender: 'client',
    },
    linear: { x, y: 0, z: 0 },
    angular: { x: 0, y: 0, z: 0 },
  };
}
