import type { Role } from '@telekit/core/safety';
import type { AccessList, TopicRules } from './auth.js';

/**
 * The gateway's access list: the app's own, plus what plugins granted while they run
 * (`gateway.grant()`). Grants only widen; each can be taken back.
 */
export class Access {
  readonly #base: AccessList;
  readonly #grants: { roles: readonly Role[]; publish: readonly string[]; subscribe: readonly string[] }[] =
    [];
  #current: AccessList;

  constructor(base: AccessList) {
    this.#base = base;
    this.#current = base;
  }

  /** The access list now. */
  get list(): AccessList {
    return this.#current;
  }

  /** Lets `roles` publish or subscribe to more topics; returns the grant's removal. */
  grant(
    roles: readonly Role[],
    rules: { publish?: readonly string[]; subscribe?: readonly string[] },
  ): () => void {
    const g = { roles, publish: rules.publish ?? [], subscribe: rules.subscribe ?? [] };
    this.#grants.push(g);
    this.#rebuild();
    return () => {
      const i = this.#grants.indexOf(g);
      if (i < 0) return;
      this.#grants.splice(i, 1);
      this.#rebuild();
    };
  }

  #rebuild(): void {
    const out = { ...this.#base } as Record<Role, TopicRules>;
    for (const g of this.#grants)
      for (const role of g.roles)
        out[role] = {
          subscribe: [...out[role].subscribe, ...g.subscribe],
          publish: [...out[role].publish, ...g.publish],
        };
    this.#current = out;
  }
}
