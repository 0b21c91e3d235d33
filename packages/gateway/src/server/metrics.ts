import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { BucketHistogram } from './bucket-histogram.js';

/** A labelled count kept as a plain number and added to its prom-client counter when scraped. */
class Tally {
  #n = 0;
  constructor(readonly labels: Readonly<Record<string, string>>) {}
  inc(n = 1): void {
    this.#n += n;
  }
  drainInto(counter: Counter<string>): void {
    if (this.#n === 0) return;
    counter.inc(this.labels, this.#n);
    this.#n = 0;
  }
}

/** The gateway's Prometheus metrics, in a registry of its own (several gateways can share a process). */
export class GatewayMetrics {
  readonly registry = new Registry();
  readonly clients = new Gauge({
    name: 'telekit_clients',
    help: 'Connected clients by lane and role',
    labelNames: ['lane', 'role'],
    registers: [this.registry],
  });
  readonly messages = new Counter({
    name: 'telekit_messages_total',
    help: 'Messages by lane and direction (in: from clients, out: to clients)',
    labelNames: ['lane', 'direction'],
    registers: [this.registry],
    // Counted as plain numbers on every message, added here when scraped.
    collect: () => {
      for (const tally of this.#messageTallies) tally.drainInto(this.messages);
    },
  });
  readonly drops = new Counter({
    name: 'telekit_dropped_total',
    help: 'Messages dropped, by lane and reason',
    labelNames: ['lane', 'reason'],
    registers: [this.registry],
  });
  readonly fates = new Counter({
    name: 'telekit_command_fates_total',
    help: 'What became of commands where they act: applied, superseded, expired, estop, refused',
    labelNames: ['fate'],
    registers: [this.registry],
    collect: () => this.#drainFates(),
  });
  readonly inputToActuation = new BucketHistogram({
    name: 'telekit_input_to_actuation_seconds',
    help: "A client's input (or its send, when it does not stamp its input) → applied where it acts; superseded commands count until the newer one that replaced them was applied",
    buckets: [0.002, 0.005, 0.01, 0.015, 0.02, 0.03, 0.05, 0.075, 0.1, 0.2, 0.5, 1],
    registers: [this.registry],
  });
  /** The latency budget: each stage of a command's trip (see `COMMAND_STAGES`), per applied command. */
  readonly commandStages = new BucketHistogram({
    name: 'telekit_command_stage_seconds',
    help: 'Time a command spent in each stage: input (page), network, gate, forward (to the actuator), apply (waiting for the step), report (back to the gateway)',
    labelNames: ['stage'],
    buckets: [0.0005, 0.001, 0.002, 0.005, 0.01, 0.015, 0.02, 0.03, 0.05, 0.1, 0.2, 0.5, 1],
    registers: [this.registry],
  });
  readonly rtt = new Histogram({
    name: 'telekit_link_rtt_seconds',
    help: "Clients' round trip to the gateway, from their clock probes",
    buckets: [0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1],
    registers: [this.registry],
  });
  readonly leaseHolder = new Gauge({
    name: 'telekit_lease_held',
    help: "1 while someone holds the control lease (label: the holder's display name), 0 otherwise",
    labelNames: ['holder'],
    registers: [this.registry],
  });
  readonly deadmanTrips = new Counter({
    name: 'telekit_deadman_trips_total',
    help: 'Deadman trips',
    registers: [this.registry],
  });
  readonly estops = new Counter({
    name: 'telekit_estops_total',
    help: 'E-stop engagements',
    registers: [this.registry],
  });
  readonly refusals = new Counter({
    name: 'telekit_refused_total',
    help: 'Requests refused, by reason (auth, acl, validation, rate, payload, lease, stale, …)',
    labelNames: ['reason'],
    registers: [this.registry],
  });

  readonly dataChannels = new Gauge({
    name: 'telekit_datachannels',
    help: 'Clients whose streamed commands come over an open WebRTC DataChannel',
    registers: [this.registry],
  });

  /**
   * The series counted on every message: plain numbers, added to `messages` when it is scraped
   * (prom-client hashes the label set on every `inc`, a few tenths of a µs a message).
   */
  readonly messageSeries: {
    readonly [D in 'in' | 'out']: { readonly [L in 'control' | 'telemetry']: { inc(n?: number): void } };
  };
  readonly #messageTallies: readonly Tally[];
  /** The labelled series of each stage, looked up once (observed on every actuation report). */
  readonly #stageSeries = new Map<string, ReturnType<BucketHistogram<'stage'>['labels']>>();
  /** Each fate's count since the last scrape. */
  readonly #fateTallies = new Map<string, Tally>();

  /** Observes one stage of a command's trip, seconds. */
  observeStage(stage: string, seconds: number): void {
    let series = this.#stageSeries.get(stage);
    if (!series) {
      series = this.commandStages.labels({ stage });
      this.#stageSeries.set(stage, series);
    }
    series.observe(seconds);
  }

  /** Counts one command fate. */
  countFate(fate: string): void {
    let tally = this.#fateTallies.get(fate);
    if (!tally) {
      tally = new Tally({ fate });
      this.#fateTallies.set(fate, tally);
    }
    tally.inc();
  }

  constructor() {
    const tally = (lane: string, direction: string) => new Tally({ lane, direction });
    const series = {
      in: { control: tally('control', 'in'), telemetry: tally('telemetry', 'in') },
      out: { control: tally('control', 'out'), telemetry: tally('telemetry', 'out') },
    };
    this.messageSeries = series;
    this.#messageTallies = [...Object.values(series.in), ...Object.values(series.out)];
  }

  #drainFates(): void {
    for (const tally of this.#fateTallies.values()) tally.drainInto(this.fates);
  }

  setLease(holder: string | undefined): void {
    this.leaseHolder.reset();
    this.leaseHolder.set({ holder: holder ?? '' }, holder ? 1 : 0);
  }
}
