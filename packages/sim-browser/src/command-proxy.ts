/**
 * The transport the operator's widgets publish on in browser mode: a proxy that sends everything to
 * the server as before and also hands each command it publishes (`/controller/twist`, `joints`,
 * `estop`) to the browser simulator as an action, named as the gateway client sent it.
 *
 * @module
 */
import { type Header, Topics, type Transport } from '@telekit/core';
import type { SimAction } from '@telekit/core/contracts';
import type { Vector3 } from '@telekit/core/schemas';

/** The fields of the control messages the browser simulator acts on. */
interface Command {
  header: Header;
  linear?: Vector3;
  angular?: Vector3;
  name?: string[];
  position?: number[];
  velocity?: number[];
  effort?: number[];
  engage?: boolean;
}

/**
 * `transport`, with every command published on it also given to `command` as a simulator action
 * (with `<topic> <seq>` as its id when the transport is a gateway client, which says what it sent
 * on `sent$`). `watch` is the subscription to `sent$`, if any: the caller ends it.
 */
export function commandProxy<T extends Transport>(
  transport: T,
  command: (action: SimAction, header: Header, id: string | undefined) => void,
): { proxy: T; watch: { unsubscribe(): void } | undefined } {
  // A gateway client says what it sent (`sent$`, with the sequence number it gave the command),
  // synchronously inside `publish`: the authority's reports name commands by that number.
  let sent: { topic: string; seq: number } | undefined;
  const watch = (
    transport as {
      sent$?: { subscribe(f: (s: { topic: string; seq: number }) => void): { unsubscribe(): void } };
    }
  ).sent$?.subscribe((s) => {
    sent = s;
  });
  const act = (action: SimAction, header: Header, topic: string) => {
    const id = sent?.topic === topic ? `${topic} ${sent.seq}` : undefined;
    sent = undefined;
    command(action, header, id);
  };
  const proxy = new Proxy(transport, {
    get(target, key) {
      if (key !== 'publish') {
        // The target as `this` for its getters too: a class with private fields (the gateway
        // client) cannot read them through the proxy.
        const value = Reflect.get(target, key);
        return typeof value === 'function' ? value.bind(target) : value;
      }
      // Extra arguments (a gateway client's publish options: when the input happened) pass through.
      return (topic: { name: string }, message: Command, ...rest: unknown[]) => {
        sent = undefined;
        const result = (target.publish as (t: unknown, m: unknown, ...r: unknown[]) => unknown)(
          topic,
          message,
          ...rest,
        );
        const { header } = message;
        if (topic.name === Topics.twist.name && message.linear && message.angular) {
          act({ kind: 'twist', linear: message.linear, angular: message.angular }, header, topic.name);
        } else if (topic.name === Topics.joints.name && message.name) {
          const { name, position, velocity, effort } = message;
          act(
            {
              kind: 'joints',
              name,
              ...(position ? { position } : {}),
              ...(velocity ? { velocity } : {}),
              ...(effort ? { effort } : {}),
            },
            header,
            topic.name,
          );
        } else if (topic.name === Topics.estop.name && message.engage) {
          act({ kind: 'freeze' }, header, topic.name);
        }
        return result;
      };
    },
  });
  return { proxy, watch };
}
