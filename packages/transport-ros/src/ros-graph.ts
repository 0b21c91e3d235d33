/**
 * The ROS graph as the transport follows it: every poll, each mapped topic's publishers and
 * subscribers (`graph$`), and the transport's state from them — connected while every required
 * `from-ros` topic has a publisher, else connecting (before the first time) or reconnecting, with
 * the topics missing as the reason.
 */
import type { Clock, ConnectionState, Logger } from '@telekit/core';
import type { BehaviorSubject } from 'rxjs';
import type { RosMapping } from './mapping.js';
import type { RclNode } from './rcl.js';
import type { RosTopicState } from './ros-transport.js';

export interface RosGraphOptions {
  node: RclNode;
  mappings: readonly RosMapping[];
  state: BehaviorSubject<ConnectionState>;
  graph: BehaviorSubject<readonly RosTopicState[]>;
  clock: Clock;
  logger: Logger;
  closed(): boolean;
}

/** Polls the graph now and every `pollMs`; returns the timer (unref'd), for the transport's close. */
export function watchGraph(o: RosGraphOptions, pollMs: number): ReturnType<typeof setInterval> {
  const { node, mappings, state, graph, clock, logger } = o;
  const poll = () => {
    if (o.closed()) return;
    try {
      const topics = mappings.map((m) => ({
        ros: m.ros,
        telekit: m.topic.name,
        direction: m.direction,
        publishers: node.countPublishers(m.ros),
        subscribers: node.countSubscribers(m.ros),
      }));
      graph.next(topics);
      const missing = mappings
        .filter((m) => m.direction === 'from-ros' && m.required !== false)
        .filter((m) => topics.find((t) => t.ros === m.ros)!.publishers === 0)
        .map((m) => m.ros);
      const status =
        missing.length === 0
          ? 'connected'
          : state.value.status === 'connecting'
            ? 'connecting'
            : 'reconnecting';
      const reason = missing.length ? `no publisher on ${missing.join(', ')}` : undefined;
      if (state.value.status !== status || state.value.reason !== reason)
        state.next({ status, since: clock.now(), ...(reason ? { reason } : {}) });
    } catch (error) {
      logger.warn('cannot read the ROS graph', { error: String(error) });
    }
  };
  poll();
  const timer = setInterval(poll, pollMs);
  timer.unref?.();
  return timer;
}
