import { type Header, Topics, type Transport } from '@telekit/core';
import type { SimAction } from '@telekit/core/contracts';
import { Subject } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { commandProxy } from './command-proxy.js';

const header: Header = { seq: 1, stamp: 0, sender: 'page' };

/** A transport that says what it sent, as the gateway client does (`sent$`, inside `publish`). */
function fakeClient() {
  const sent$ = new Subject<{ topic: string; seq: number }>();
  const published: unknown[][] = [];
  let seq = 0;
  const client = {
    sent$,
    publish(topic: { name: string }, ...rest: unknown[]) {
      published.push([topic.name, ...rest]);
      sent$.next({ topic: topic.name, seq: ++seq });
    },
  };
  return { client, published };
}

describe('commandProxy', () => {
  it('publishes as before and hands each command to the simulator, named as the client sent it', () => {
    const { client, published } = fakeClient();
    const acted: [SimAction, Header, string | undefined][] = [];
    const { proxy, watch } = commandProxy(client as unknown as Transport, (...a) => acted.push(a));
    const twist = { header, linear: { x: 1, y: 0, z: 0 }, angular: { x: 0, y: 0, z: 0.5 } };
    // A gateway client's publish takes options beyond the Transport contract's two arguments.
    (proxy.publish as (...args: unknown[]) => void)(Topics.twist, twist, { inputAt: 1 });
    proxy.publish(Topics.joints, { header, name: ['elbow'], position: [0.3] });
    proxy.publish(Topics.estop, { header, engage: true });
    proxy.publish(Topics.estop, { header, engage: false });
    expect(published.map((p) => p[0])).toEqual([
      '/controller/twist',
      '/controller/joints',
      '/controller/estop',
      '/controller/estop',
    ]);
    // Extra arguments pass through.
    expect(published[0]![2]).toEqual({ inputAt: 1 });
    expect(acted).toEqual([
      [{ kind: 'twist', linear: twist.linear, angular: twist.angular }, header, '/controller/twist 1'],
      [{ kind: 'joints', name: ['elbow'], position: [0.3] }, header, '/controller/joints 2'],
      [{ kind: 'freeze' }, header, '/controller/estop 3'],
    ]);
    expect(watch).toBeDefined();
    watch!.unsubscribe();
  });

  it('gives no id where the transport does not say what it sent', () => {
    const published: string[] = [];
    const transport = { publish: (topic: { name: string }) => published.push(topic.name) };
    const acted: (string | undefined)[] = [];
    const { proxy, watch } = commandProxy(transport as unknown as Transport, (_a, _h, id) => acted.push(id));
    proxy.publish(Topics.estop, { header, engage: true });
    expect(published).toEqual(['/controller/estop']);
    expect(acted).toEqual([undefined]);
    expect(watch).toBeUndefined();
  });
});
