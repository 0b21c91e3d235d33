export { type KinematicSimOptions, kinematicSim } from './kinematic-sim.js';
export { type TestPatternOptions, testPatternSource } from './test-pattern-source.js';
