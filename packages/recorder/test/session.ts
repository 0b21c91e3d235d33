import { createApp, inProcess, silentLogger, Topics } from '@telekit/core';
import { nvencMedia } from '@telekit/media-nvenc';
import { expect, vi } from 'vitest';
import { RecorderToken, recorder } from '../src/index.js';
import { kinematicRobot } from './robot.js';

/** What {@link recordDrivingSession} recorded. */
export interface DrivingSession {
  file: string;
  /** The episodes' tasks, in order. */
  tasks: string[];
}

/**
 * Records a short real session into `dir`: the kinematic diff-drive robot driven by twists, a camera
 * encoded by ffmpeg and tapped through mediasoup (320×240 at 30 fps), and two episodes, each lasting
 * until it holds at least `frames` pictures. Between the episodes the robot is left idle (not recorded
 * as an episode).
 */
export async function recordDrivingSession(dir: string, frames = 45): Promise<DrivingSession> {
  const app = createApp({
    logger: silentLogger,
    plugins: [
      inProcess(),
      kinematicRobot(),
      nvencMedia({
        lingerMs: 200,
        streams: [
          {
            id: 'front',
            hls: false,
            profile: { width: 320, height: 240, fps: 30, bitrateKbps: 600, gopSeconds: 1 },
          },
        ],
      }),
      recorder({ dir }),
    ],
  });
  const tasks = ['drive forward and turn left', 'back up'];
  try {
    await app.start();
    const rec = app.resolve(RecorderToken);
    // The camera first: an episode starts once pictures flow.
    await vi.waitFor(
      async () => {
        await rec.flush();
        if ((rec.status().messages['/video/front'] ?? 0) < 5) throw new Error('no video yet');
      },
      { timeout: 90_000, interval: 100 },
    );
    let seq = 0;
    for (const [i, task] of tasks.entries()) {
      await rec.startEpisode(task);
      const before = rec.status().messages['/video/front'] ?? 0;
      await vi.waitFor(
        async () => {
          app.transport.publish(Topics.twist, {
            header: { seq: seq++, stamp: Date.now(), sender: 'operator' },
            linear: { x: i === 0 ? 0.5 : -0.25, y: 0, z: 0 },
            angular: { x: 0, y: 0, z: i === 0 ? 0.4 : 0 },
          });
          await rec.flush();
          if ((rec.status().messages['/video/front'] ?? 0) - before < frames) throw new Error('recording');
        },
        { timeout: 90_000, interval: 50 },
      );
      await rec.stopEpisode();
    }
    const file = rec.status().file!;
    return { file, tasks };
  } finally {
    await app.stop();
  }
}

/**
 * Records ffmpeg's test pattern (320×240 at 30 fps, a keyframe a second) as the stream `cam` into
 * `dir` — encoded, forwarded by mediasoup, handed to the recorder by the media plugin's tap — until
 * the file holds at least `units` pictures; returns the file.
 */
export async function recordTestPattern(dir: string, units: number): Promise<string> {
  const app = createApp({
    logger: silentLogger,
    plugins: [
      inProcess(),
      nvencMedia({
        lingerMs: 200,
        streams: [
          {
            id: 'cam',
            hls: false,
            profile: { width: 320, height: 240, fps: 30, bitrateKbps: 600, gopSeconds: 1 },
          },
        ],
      }),
      recorder({ dir }),
    ],
  });
  await app.start();
  try {
    const rec = app.resolve(RecorderToken);
    await vi.waitFor(
      async () => {
        await rec.flush();
        expect(rec.status().messages['/video/cam'] ?? 0).toBeGreaterThanOrEqual(units);
      },
      { timeout: 90_000, interval: 200 },
    );
    return rec.status().file!;
  } finally {
    await app.stop();
  }
}
