/**
 * A gateway client for the widgets' browser tests, in the page: the parts of `GatewayClient` the
 * elements use, driven by the test (state, link health, lease, e-stop, telemetry, faults pushed
 * in) and recording what the elements do with it (publishes with their `inputAt`, requests, lease
 * requests and releases). No server, no socket.
 */
import { type ConnectionState, type Topic, topicByName } from '@telekit/core';
import type {
  ClientLinkHealth,
  EStopInfo,
  GatewayClient,
  LeaseAnswer,
  LeaseInfo,
  PublishOptions,
  WireError,
} from '@telekit/gateway/client';
import { BehaviorSubject, type Observable, ReplaySubject, Subject } from 'rxjs';

/** One `publish` as the element made it. */
export interface Published {
  readonly topic: string;
  readonly message: unknown;
  /** `options.inputAt`, when the element gave it. */
  readonly inputAt?: number;
  /** When it was published, on the page's clock (`performance.timeOrigin + performance.now()`), ms. */
  readonly at: number;
}

export class FakeClient {
  role: 'viewer' | 'operator' | 'admin' = 'operator';
  holdsControl = false;
  estimate: { offset: number; rtt: number; uncertainty: number; samples: number } | undefined = {
    offset: 0,
    rtt: 1,
    uncertainty: 0.5,
    samples: 1,
  };
  readonly state$ = new BehaviorSubject<ConnectionState>({ status: 'connected', since: Date.now() });
  readonly health$ = new ReplaySubject<ClientLinkHealth>(1);
  readonly lease$ = new BehaviorSubject<LeaseInfo | null>(null);
  readonly estop$ = new BehaviorSubject<EStopInfo>({ latched: false });
  readonly faults$ = new Subject<WireError>();
  readonly published: Published[] = [];
  readonly requests: { topic: string; body: unknown }[] = [];
  readonly leaseRequests: { takeover?: boolean }[] = [];
  releases = 0;
  /** The answers to `request`, by topic name; a request without one is refused. */
  answers: Record<string, unknown> = {};
  /** The answer to `requestControl`. */
  leaseAnswer: LeaseAnswer = { granted: false, reason: 'held', holder: null };
  /** Topics `topic(name)` knows besides the built-in ones (a plugin's, such as the recorder's). */
  readonly known = new Map<string, Topic>();
  readonly #lines = new Map<string, Subject<unknown>>();

  #line(name: string): Subject<unknown> {
    const line = this.#lines.get(name) ?? new Subject<unknown>();
    this.#lines.set(name, line);
    return line;
  }

  subscribe<T>(topic: Topic<T>): Observable<T> {
    return this.#line(topic.name).asObservable() as Observable<T>;
  }

  /** A telemetry message on `topic`, to whoever subscribed. */
  push(topic: string, message: unknown): void {
    this.#line(topic).next(message);
  }

  publish<T>(topic: Topic<T>, message: T, options?: PublishOptions): void {
    this.published.push({
      topic: topic.name,
      message,
      ...(options?.inputAt !== undefined ? { inputAt: options.inputAt } : {}),
      at: performance.timeOrigin + performance.now(),
    });
  }

  async request(topic: string | Topic, body: unknown): Promise<unknown> {
    const name = typeof topic === 'string' ? topic : topic.name;
    this.requests.push({ topic: name, body });
    if (name in this.answers) return this.answers[name];
    throw new Error(`no answer for ${name}`);
  }

  async requestControl(options: { takeover?: boolean } = {}): Promise<LeaseAnswer> {
    this.leaseRequests.push(options);
    return this.leaseAnswer;
  }

  async releaseControl(): Promise<void> {
    this.releases++;
    this.grant(null, false);
  }

  topic(name: string): Topic | undefined {
    return this.known.get(name) ?? topicByName(name);
  }

  /** A topic of a plugin's (`lane` and `name` are all the elements read), known by name from now on. */
  define(name: string, lane: Topic['lane']): void {
    this.known.set(name, { name, lane, ttl: 250, depth: 16, description: name } as unknown as Topic);
  }

  /** Control changes hands: `holdsControl`, then `lease$`, as the real client orders them. */
  grant(holder: LeaseInfo | null, mine: boolean): void {
    this.holdsControl = mine;
    this.lease$.next(holder);
  }

  /** This object where an element wants a `GatewayClient` (it implements what the elements use). */
  asClient(): GatewayClient {
    return this as unknown as GatewayClient;
  }
}
