/**
 * Tokens for the attacks, good and bad, signed here with `jose` (not with the gateway's helpers, so
 * that a bug there cannot hide one in the verifier). Every token handed out is remembered, so that
 * the suite can search the gateway's logs for any of them.
 *
 * @module
 */
import { SignJWT, UnsecuredJWT } from 'jose';
import { SECRET } from '../config.js';

export type Role = 'viewer' | 'operator' | 'admin';

const key = new TextEncoder().encode(SECRET);
const issued = new Set<string>();

/** Every token this process handed out (to search logs for). */
export const issuedTokens = (): string[] => [...issued];

const remember = (t: string) => {
  issued.add(t);
  return t;
};

/** Claims of a crafted token; times are seconds since the epoch, `null` leaves a claim out. */
export interface Claims {
  sub?: string | null;
  role?: string | null;
  iat?: number | null;
  exp?: number | null;
  nbf?: number;
  [claim: string]: unknown;
}

const nowS = () => Math.floor(Date.now() / 1000);

/** An HS256 token; by default valid for ten minutes. */
export async function token(
  sub: string,
  role: Role,
  claims: Omit<Claims, 'sub' | 'role'> = {},
  options: { secret?: Uint8Array; alg?: string } = {},
): Promise<string> {
  return craft({ sub, role, ...claims }, options);
}

/** A token with exactly the claims given (`null` omits iat/exp). */
export async function craft(claims: Claims, options: { secret?: Uint8Array; alg?: string } = {}) {
  const { iat = nowS(), exp = nowS() + 600, ...rest } = claims;
  const payload: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(rest)) if (v !== null && v !== undefined) payload[k] = v;
  if (iat !== null) payload.iat = iat;
  if (exp !== null) payload.exp = exp;
  const jwt = new SignJWT(payload).setProtectedHeader({ alg: options.alg ?? 'HS256', typ: 'JWT' });
  return remember(await jwt.sign(options.secret ?? key));
}

/** An unsigned token (`alg: none`) with the claims of a valid operator. */
export function unsecured(sub: string, role: Role): string {
  return remember(
    new UnsecuredJWT({ sub, role })
      .setIssuedAt()
      .setExpirationTime(nowS() + 600)
      .encode(),
  );
}

/** A token signed with another secret. */
export function wrongSecret(sub: string, role: Role) {
  return token(
    sub,
    role,
    {},
    { secret: new TextEncoder().encode('another-secret-of-at-least-32-bytes-long!!') },
  );
}

/** The signature part of a token (what must never appear in a log). */
export const signatureOf = (t: string) => t.split('.')[2] ?? t;
