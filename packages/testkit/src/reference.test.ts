import { inProcessTransport } from '@telekit/core';
import { describeMediaSource } from './describe-media-source.js';
import { describeSimulator } from './describe-simulator.js';
import { describeTransport } from './describe-transport.js';
import { kinematicSim, testPatternSource } from './fakes/index.js';

// The reference implementations pass their kits, as every plugin must.

describeTransport('in-process', async () => {
  const t = inProcessTransport();
  return { publisher: t, subscriber: t, close: () => t.close() };
});

describeSimulator('kinematic', async () => kinematicSim(), {
  scene: { id: 'diff-drive' },
  joint: { name: 'pan', target: 0.5 },
});

describeMediaSource('test pattern', async () => testPatternSource({ fps: 60 }));
