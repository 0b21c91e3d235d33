import type { RosMapping } from '@telekit/transport-ros';

/** A ROS name as the endpoint keys it: one leading slash, no trailing one (`cmd_vel` → `/cmd_vel`). */
export const normaliseName = (name: string): string => `/${name.replace(/^\/+/, '').replace(/\/+$/, '')}`;

/** A ROS interface name without the ROS 2 `msg`/`srv` infix: `geometry_msgs/msg/Twist` ≍ `geometry_msgs/Twist`. */
export const plainType = (type: string): string => type.replace(/\/(msg|srv|action)\//, '/');

/** Whether a client's type names the mapped one (either spelling; `/cmd_vel` takes Twist or TwistStamped). */
export function sameType(line: RosMapping, type: string): boolean {
  const want = plainType(line.type);
  const got = plainType(type);
  if (got === want) return true;
  const twists = ['geometry_msgs/Twist', 'geometry_msgs/TwistStamped'];
  return twists.includes(want) && twists.includes(got);
}

/** The mapping by ROS name (normalised); a later line for the same name wins. */
export function mappingByRosName(mappings: readonly RosMapping[]): Map<string, RosMapping> {
  return new Map(mappings.map((m) => [normaliseName(m.ros), m]));
}
