import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { BucketHistogram } from './bucket-histogram.js';

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
   * The labelled series counted on every message, looked up once: prom-client hashes a label set on
   * each `inc` otherwise.
   */
  readonly messageSeries = {
    in: {
      control: this.messages.labels({ lane: 'control', direction: 'in' }),
      telemetry: this.messages.labels({ lane: 'telemetry', direction: 'in' }),
    },
    out: {
      control: this.messages.labels({ lane: 'control', direction: 'out' }),
      telemetry: this.messages.labels({ lane: 'telemetry', direction: 'out' }),
    },
  } as const;
  /** The labelled series of each stage and fate, looked up once (observed on every actuation report). */
  readonly #stageSeries = new Map<string, ReturnType<BucketHistogram<'stage'>['labels']>>();
  readonly #fateSeries = new Map<string, ReturnType<Counter<'fate'>['labels']>>();

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
    let series = this.#fateSeries.get(fate);
    if (!series) {
      series = this.fates.labels({ fate });
      this.#fateSeries.set(fate, series);
    }
    series.inc();
  }

  setLease(holder: string | undefined): void {
    this.leaseHolder.reset();
    this.leaseHolder.set({ holder: holder ?? '' }, holder ? 1 : 0);
  }
}
