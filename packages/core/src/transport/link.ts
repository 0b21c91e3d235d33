/**
 * The contract a plugin author writes for {@link defineTransport}: a {@link Link} that opens one
 * connection at a time, sends frames on it and reports what arrives and its loss; with the frame it
 * is handed, the events it reports on, and the counters the transport keeps of it.
 */
import type { Topic } from '../schemas/topic.js';

/** What a link tells its transport about one connection (a fresh object for every `connect`). */
export interface LinkEvents {
  /**
   * A frame arrived for a Telekit topic (by name, `/telemetry/battery`). The transport decodes it,
   * validates it, drops copies and hands it to the topic's feeds; frames for topics nobody here
   * subscribed to are ignored.
   */
  receive(topic: string, data: Uint8Array | string): void;
  /** The connection was lost by itself (not by `close()`): the transport reconnects or gives up. */
  lost(reason: string): void;
}

/** One message on its way out. */
export interface LinkFrame {
  readonly topic: Topic;
  /** The message in the transport's codec. */
  readonly bytes: Uint8Array;
  /** The validated message itself, for links that carry structured data rather than bytes. */
  readonly message: unknown;
}

/**
 * The small part of a transport that knows a network or a broker: what a plugin author writes for
 * {@link defineTransport}. It opens one connection at a time and never reconnects by itself (turn a
 * client library's own reconnection off): the transport decides when to try again.
 */
export interface Link {
  /**
   * Opens a connection and resolves once it can carry frames; report what arrives and the loss of
   * the connection on `events`. Rejects when it cannot connect: a `TelekitError` with code
   * `E_AUTH` or `E_CONFIG` makes the transport give up (it will not get better by retrying);
   * anything else is retried. After `events.lost`, the link has let go of that connection (or does
   * so in its next `connect`).
   */
  connect(events: LinkEvents): Promise<void>;
  /**
   * Sends a frame on the current connection. Resolve when the other side acknowledged it, if it
   * does. A throw or a rejection is reported on `faults$`: with the error's code when it is a
   * `TelekitError` (a broker's refusal as `E_FORBIDDEN`, …), else as `E_NOT_CONNECTED`.
   */
  send(frame: LinkFrame): void | Promise<void>;
  /**
   * Asks the other side for a topic's frames; resolves once it acknowledged (the topic's feeds are
   * live from then on). Called when a topic gets its first subscriber and again after every
   * reconnect. Without it, the link receives everything and feeds are live while connected.
   */
  subscribe?(topic: Topic): Promise<void>;
  /** Tells the other side a topic is no longer wanted here. */
  unsubscribe?(topic: Topic): void | Promise<void>;
  /** Closes the current connection, if any, without calling `lost`. Safe to call more than once. */
  close(): Promise<void>;
}

/** Counters of a {@link DefinedTransport}'s link, since it was made. */
export interface LinkStats {
  /** Connections made (the first and every reconnect). */
  connects: number;
  /** Frames handed to the link. */
  sent: number;
  /** Of those, sends the link reported failed (each one on `faults$`). */
  failed: number;
  /** Control commands dropped because the link was down (each one on `faults$`). */
  unsent: number;
  /** Frames that arrived for a topic subscribed here. */
  received: number;
  /** Of those, refused at the boundary: undecodable or invalid (each one on `faults$`). */
  refused: number;
  /** Of those, copies of a message already received. */
  duplicates: number;
}
