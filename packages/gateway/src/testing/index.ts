/**
 * Test kits for what plugs into the gateway: `@telekit/gateway/testing`. Needs vitest.
 *
 * @module
 */
export {
  type BackplaneHarness,
  type DescribeBackplaneOptions,
  describeBackplane,
} from './describe-backplane.js';
