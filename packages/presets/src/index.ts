/**
 * Telekit's usual compositions as plugin lists, so an app says what it runs, not how the parts are
 * wired: `simulatedRobot()` is the simulator, its video and the pages' own simulation.
 *
 * @module
 */
export { PAGE_SIMULATION_PLUGIN, type SimulatedRobotOptions, simulatedRobot } from './simulated-robot.js';
