/**
 * Media signalling's view of its clients: which viewer transports each client owns (and those
 * being made for it), the ownership check on a transport named in a request, the limits checked
 * before anything is created (with the refusal counter and the transport gauge that go to
 * `/metrics`), and closing a departing client's transports.
 */
import { type Logger, TelekitError } from '@telekit/core';
import { Counter, Gauge, type Registry } from 'prom-client';
import type { MediaLimits } from './media-signalling.js';
import type { Sfu, ViewerTransportInfo } from './sfu.js';

/** A client's transports, and those being made for it. */
interface Client {
  readonly transports: Set<string>;
  pending: number;
}

/** What {@link MediaClients} works on. */
export interface MediaClientsOptions {
  sfu: Sfu;
  limits: Readonly<Required<MediaLimits>>;
  /** Where the limit figures go. */
  registry: Registry;
  logger: Logger;
}

/** The clients' transports, their owners and the limits on them. */
export class MediaClients {
  readonly #sfu: Sfu;
  readonly #limits: Readonly<Required<MediaLimits>>;
  readonly #logger: Logger;
  readonly #clients = new Map<string, Client>();
  /** Each transport's client. */
  readonly #owners = new Map<string, string>();
  #pendingTransports = 0;
  readonly #refusals: Counter<'limit'>;

  constructor(options: MediaClientsOptions) {
    this.#sfu = options.sfu;
    this.#limits = options.limits;
    this.#logger = options.logger;
    this.#refusals = new Counter({
      name: 'telekit_media_limit_refusals_total',
      help: 'Media requests refused for a limit, by limit',
      labelNames: ['limit'],
      registers: [options.registry],
    });
    const sfu = this.#sfu;
    new Gauge({
      name: 'telekit_media_transports',
      help: 'Open WebRTC viewer transports',
      registers: [options.registry],
      collect() {
        this.set(sfu.transportCount);
      },
    });
  }

  /** Refuses with `E_MEDIA_LIMIT`, naming the limit, and counts the refusal. */
  #limit(name: keyof MediaLimits, what: string): never {
    this.#refusals.inc({ limit: name });
    throw new TelekitError('E_MEDIA_LIMIT', `${what}: at most ${this.#limits[name]}`, {
      context: { limit: name, max: this.#limits[name] },
    });
  }

  /** Throws unless `transport` exists and belongs to `clientId`. */
  own(clientId: string, transport: string): void {
    const owner = this.#owners.get(transport);
    if (owner === undefined)
      throw new TelekitError('E_MEDIA_SIGNALLING', 'unknown transport', {
        context: { transport: transport.slice(0, 64) },
      });
    if (owner !== clientId)
      throw new TelekitError('E_FORBIDDEN', 'that transport belongs to another viewer', {
        context: { transport: transport.slice(0, 64) },
      });
  }

  /** Throws `E_MEDIA_LIMIT` when `transport` holds as many consumers as it may. */
  admitConsumer(transport: string): void {
    if (this.#sfu.consumerCount(transport) >= this.#limits.consumersPerTransport)
      this.#limit('consumersPerTransport', 'too many consumers on this transport');
  }

  /** A viewer transport for `clientId`, within the limits; closed at once if the client left meanwhile. */
  async createTransport(clientId: string): Promise<ViewerTransportInfo> {
    const sfu = this.#sfu;
    const client = this.#clients.get(clientId) ?? { transports: new Set<string>(), pending: 0 };
    this.#clients.set(clientId, client);
    if (client.transports.size + client.pending >= this.#limits.transportsPerClient)
      this.#limit('transportsPerClient', 'too many media transports for this client');
    if (sfu.transportCount + this.#pendingTransports >= this.#limits.transports)
      this.#limit('transports', 'too many media transports on this server');
    client.pending++;
    this.#pendingTransports++;
    let id: string | undefined;
    try {
      const t = await sfu.createViewerTransport(() => {
        if (id === undefined) return;
        this.#owners.delete(id);
        client.transports.delete(id);
      });
      id = t.id;
      if (this.#clients.get(clientId) !== client) {
        // The client left while its transport was being made.
        sfu.closeTransport(t.id);
        throw new TelekitError('E_MEDIA_SIGNALLING', 'the client left before its transport was ready');
      }
      this.#owners.set(t.id, clientId);
      client.transports.add(t.id);
      return t;
    } finally {
      client.pending--;
      this.#pendingTransports--;
    }
  }

  /** The ids of the consumers on `clientId`'s transports. */
  consumersOf(clientId: string): Set<string> {
    const sfu = this.#sfu;
    return new Set(
      sfu
        .consumers()
        .filter((c) => this.#owners.get(sfu.transportOfConsumer(c.id) ?? '') === clientId)
        .map((c) => c.id),
    );
  }

  /** Forgets `clientId` and closes its transports (and so their consumers); never throws. */
  release(clientId: string): void {
    const client = this.#clients.get(clientId);
    if (!client) return;
    this.#clients.delete(clientId);
    for (const transport of client.transports) {
      this.#owners.delete(transport);
      try {
        this.#sfu.closeTransport(transport);
      } catch (error) {
        this.#logger.warn('closing a media transport failed', { error: String(error) });
      }
    }
    client.transports.clear();
  }
}
