import type * as rclnodejs from 'rclnodejs';
import { expectTypeOf, test } from 'vitest';
import type { RclModule, RclNode } from './rcl.js';

// The boundary is rclnodejs's own API: its declarations (installed without running its build
// script, which needs a sourced ROS 2) must satisfy what Telekit calls. An assignment that does not
// compile fails this test.
declare const node: rclnodejs.Node;
declare const module: typeof rclnodejs;

test('rclnodejs satisfies the boundary Telekit calls', () => {
  const asBoundary: RclNode = node;
  const moduleAsBoundary: RclModule = module;
  expectTypeOf(asBoundary.countPublishers).returns.toEqualTypeOf<number>();
  expectTypeOf(moduleAsBoundary.init).returns.toEqualTypeOf<Promise<void>>();
});
