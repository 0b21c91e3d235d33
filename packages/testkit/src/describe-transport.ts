import type { TransportCapabilities } from '@telekit/core/transport';
import { describe } from 'vitest';
import type { SkipEntry } from './skips.js';
import { deliveryCases } from './transport-delivery-cases.js';
import { type TransportHarness, transportKit } from './transport-kit.js';
import { laneCases } from './transport-lane-cases.js';
import { lifecycleCases } from './transport-lifecycle-cases.js';
import { subscriberCases } from './transport-subscriber-cases.js';
import { validationCases } from './transport-validation-cases.js';

export type { TransportHarness } from './transport-kit.js';
export { battery, settle, transportKitTopics, twist } from './transport-kit-messages.js';

/** Options of {@link describeTransport}. */
export interface DescribeTransportOptions {
  /** What the transport claims; cases needing an absent capability are skipped, saying so. */
  capabilities?: Partial<TransportCapabilities>;
  /** Cases to skip, with why. */
  skip?: readonly SkipEntry[];
  /**
   * How long to wait for one thing to happen (a delivery, a state, a feed going live), ms. Default
   * 2 000. A case may wait for several; a reconnect waits for up to five times as long.
   */
  timeoutMs?: number;
}

/**
 * The conformance kit for {@link Transport}: every implementation, the in-process reference
 * included, runs it and passes it. A failure names the case and says what was expected and what
 * happened (the topic, the states the link went through, the feed's counters), never a bare timeout.
 *
 * The kit waits for each feed to be live (`Feed.live$`) before it publishes, as the contract says a
 * subscriber should; the cases with `breakLink` and `sendRaw` run where the harness offers them.
 *
 * The cases, in the order they run: delivery (`transport-delivery-cases.ts`), the lanes' rules
 * (`transport-lane-cases.ts`), independent subscribers (`transport-subscriber-cases.ts`),
 * validation (`transport-validation-cases.ts`) and lifecycle (`transport-lifecycle-cases.ts`).
 *
 * @example
 * ```ts
 * import { inProcessTransport } from '@telekit/core';
 * import { describeTransport } from '@telekit/testkit';
 * describeTransport('in-process', async () => {
 *   const t = inProcessTransport();
 *   return { publisher: t, subscriber: t, close: () => t.close() };
 * });
 * ```
 */
export function describeTransport(
  name: string,
  makeHarness: () => Promise<TransportHarness>,
  options: DescribeTransportOptions = {},
): void {
  const suite = `Transport conformance: ${name}`;
  const kit = transportKit({
    suite,
    makeHarness,
    wait: options.timeoutMs ?? 2_000,
    capabilities: options.capabilities ?? {},
    skip: options.skip,
  });
  describe(suite, () => {
    deliveryCases(kit);
    laneCases(kit);
    subscriberCases(kit);
    validationCases(kit);
    lifecycleCases(kit);
  });
}
