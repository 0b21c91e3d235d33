import type { GatewayClient } from '@telekit/gateway/client';
import { LitElement } from 'lit';
import type { Subscription } from 'rxjs';

/**
 * What every Telekit widget shares: a gateway `client` property (set it, or call `bindClient` on a
 * page), subscriptions that live while the element is on the page and the client is set, and the
 * theme's custom properties.
 */
export abstract class TelekitWidget extends LitElement {
  static override properties = { client: { attribute: false } };
  declare client: GatewayClient | undefined;
  #subscriptions: Subscription[] = [];
  #bound: GatewayClient | undefined;

  /** Called when the element is on the page with a client; return what to unsubscribe when either goes. */
  protected abstract attach(client: GatewayClient): Subscription[] | undefined;

  /** Called when the client goes or the element leaves the page. */
  protected detach(): void {}

  override connectedCallback(): void {
    super.connectedCallback();
    this.#rebind();
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    this.#unbind();
  }

  protected override updated(changed: Map<PropertyKey, unknown>): void {
    super.updated(changed);
    if (changed.has('client')) this.#rebind();
  }

  #rebind(): void {
    if (this.#bound === this.client && this.#bound) return;
    this.#unbind();
    if (!this.client || !this.isConnected) return;
    this.#bound = this.client;
    this.#subscriptions = this.attach(this.client) ?? [];
  }

  #unbind(): void {
    for (const s of this.#subscriptions) s.unsubscribe();
    this.#subscriptions = [];
    if (this.#bound) this.detach();
    this.#bound = undefined;
  }

  /** Dispatches a bubbling, composed event, so pages can listen on any ancestor. */
  protected emit<T>(type: string, detail: T): void {
    this.dispatchEvent(new CustomEvent(type, { detail, bubbles: true, composed: true }));
  }
}

/** Sets `client` on every Telekit widget under `root` (the page, by default). */
export function bindClient(client: GatewayClient, root: ParentNode = document): void {
  for (const el of root.querySelectorAll('*')) {
    if (el instanceof TelekitWidget) el.client = client;
  }
}

/**
 * Defines a Telekit element under its tag, once: a second copy of the package on the page (or a
 * second import of the element's module) leaves the first definition in place.
 */
export function defineElement(tag: string, element: CustomElementConstructor): void {
  if (!customElements.get(tag)) customElements.define(tag, element);
}
