import { inProcessTransport, Topics, type Transport } from '@telekit/core';
import { describe, expect, it } from 'vitest';
import { BrowserSimulation } from './browser-simulation.js';

describe('BrowserSimulation.control', () => {
  it("keeps a transport's getters and methods working when they read private fields", async () => {
    // A transport class with #private state, as the gateway client is: through a proxy whose
    // getters ran with the proxy as `this`, the page threw "Cannot read private member".
    class Client {
      readonly #inner: Transport = inProcessTransport();
      get state$() {
        return this.#inner.state$;
      }
      subscribe(...args: Parameters<Transport['subscribe']>) {
        return this.#inner.subscribe(...args);
      }
      close() {
        return this.#inner.close();
      }
    }
    const client = new Client();
    const sim = new BrowserSimulation({
      transport: client as unknown as Transport,
      scene: { id: 'diff-drive' },
      scenes: { 'diff-drive': 'unused.xml' } as never,
    });
    const control = sim.control(client as unknown as Transport) as unknown as Client;
    expect(control.state$).toBe(client.state$);
    expect(control.subscribe(Topics.pose).topic).toBe(Topics.pose);
    await sim.close();
    await client.close();
  });
});
