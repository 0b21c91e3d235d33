import { describeSimulator } from '@telekit/testkit';
import { unicycleSim } from './unicycle-sim.js';

// The whole contract, as every Telekit simulator proves it. The joint and camera cases skip, saying
// that the simulator does not declare them.
describeSimulator('unicycle (the guide)', async () => unicycleSim(), {
  scene: { id: 'unicycle' },
});
