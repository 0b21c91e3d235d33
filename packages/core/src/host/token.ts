declare const tokenType: unique symbol;

/**
 * A dependency-injection token: a `Symbol.for` key with a phantom type, so two copies of a package
 * agree on it and `resolve(token)` is typed.
 */
export type Token<T> = symbol & { readonly [tokenType]?: T };

/**
 * Creates (or finds) the token for `key`. Use the package name and the contract, like
 * `@telekit/core/Transport`.
 *
 * @example
 * ```ts
 * import { token } from '@telekit/core';
 * interface Greeter { greet(name: string): string }
 * export const GreeterToken = token<Greeter>('@my-org/greeter/Greeter');
 * ```
 */
export function token<T>(key: string): Token<T> {
  return Symbol.for(key) as Token<T>;
}

/** The key a token was made with, for messages. */
export function tokenName(t: Token<unknown>): string {
  return Symbol.keyFor(t) ?? t.description ?? t.toString();
}
