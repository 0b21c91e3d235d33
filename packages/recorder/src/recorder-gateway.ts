/**
 * The recorder beside a gateway in the same app: its topics made known and granted (operators and
 * admins drive episodes, everyone sees the status), and what only the gateway sees — the commands it
 * refused before the app saw them, the lease's changes and the e-stop's — recorded on their own
 * channels. The gateway is reached by its token's key, so this package does not depend on it.
 */
import { type Token, type Topic, token } from '@telekit/core';
import type { Role } from '@telekit/core/safety';
import { filter, type Observable, pairwise, type Subscription, startWith } from 'rxjs';
import type { Push } from './recorder-sources.js';
import { RecorderTopics } from './recorder-topics.js';
import {
  COMMAND_FATE_CHANNEL,
  type CommandFateRecord,
  ESTOP_CHANNEL,
  type EStopRecord,
  LEASE_CHANNEL,
  type LeaseRecord,
} from './schemas.js';

/** Who holds the lease, as `@telekit/gateway` says (`LeaseInfo`). */
type LeaseHolder = NonNullable<LeaseRecord['holder']>;

/** What the recorder needs of a gateway in the same app (`@telekit/gateway`'s `Gateway`). */
export interface RecorderGateway {
  addTopics(topics: readonly Topic[]): void;
  grant(
    roles: readonly Role[],
    rules: { publish?: readonly string[]; subscribe?: readonly string[] },
  ): () => void;
  /** Each published message's fate at the gateway (absent from gateways older than it). */
  readonly commandFates$?: Observable<CommandFateRecord>;
  readonly lease$?: Observable<LeaseHolder | null>;
  readonly estop$?: Observable<{ latched: boolean; by?: string; byId?: string; reason?: string }>;
}

/** A lease change as `/recorder/lease` records it; `undefined` before the first (the state at the start). */
function leaseRecord(previous: LeaseHolder | null | undefined, holder: LeaseHolder | null): LeaseRecord {
  const event = previous === undefined ? 'state' : !holder ? 'released' : previous ? 'taken' : 'granted';
  return { event, holder, previous: previous ?? null };
}

/** `@telekit/gateway`'s `GatewayToken`, by its key, so this package does not depend on the gateway. */
export const RecorderGatewayToken: Token<RecorderGateway> =
  token<RecorderGateway>('@telekit/gateway/Gateway');

/**
 * Makes the recorder's topics known to the gateway and grants them, and records what it tells
 * (its subscriptions go into `subs`). Returns the grants' removals.
 */
export function recordGateway(gateway: RecorderGateway, push: Push, subs: Subscription[]): (() => void)[] {
  gateway.addTopics(Object.values(RecorderTopics));
  const removals = [
    gateway.grant(['operator', 'admin'], { publish: [RecorderTopics.request.name] }),
    gateway.grant(['viewer', 'operator', 'admin'], { subscribe: [RecorderTopics.status.name] }),
  ];
  // What the gateway refused never reaches the app's transport: the gateway tells it. Refusals
  // are telemetry to the queue (dropped and counted when it is full); the lease and the e-stop
  // are control. Admitted commands are on their own channels already (`/controller/*`).
  if (gateway.commandFates$)
    subs.push(
      gateway.commandFates$
        .pipe(filter((f) => f.fate === 'refused'))
        .subscribe((f) => push('telemetry', COMMAND_FATE_CHANNEL, f)),
    );
  if (gateway.lease$)
    subs.push(
      gateway.lease$
        .pipe(
          startWith(undefined),
          pairwise(),
          // The same holder again (a renewal) is no change.
          filter(([previous, holder]) => previous === undefined || previous?.id !== holder?.id),
        )
        .subscribe(([previous, holder]) =>
          push('control', LEASE_CHANNEL, leaseRecord(previous, holder as LeaseHolder | null)),
        ),
    );
  if (gateway.estop$) {
    let first = true;
    subs.push(
      gateway.estop$.subscribe((e) => {
        const event: EStopRecord['event'] = first ? 'state' : e.latched ? 'engaged' : 'cleared';
        first = false;
        push('control', ESTOP_CHANNEL, {
          event,
          latched: e.latched,
          ...(e.by === undefined ? {} : { by: e.by }),
          ...(e.byId === undefined ? {} : { byId: e.byId }),
          ...(e.reason === undefined ? {} : { reason: e.reason }),
        } satisfies EStopRecord);
      }),
    );
  }
  return removals;
}
