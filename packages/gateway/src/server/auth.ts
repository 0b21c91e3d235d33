import { TelekitError } from '@telekit/core';
import type { Role } from '@telekit/core/safety';
import { errors as joseErrors, jwtVerify, SignJWT } from 'jose';

/** Who a connection is, once authenticated. */
export interface Principal {
  /** Stable id of the user or robot (a JWT's `sub`). */
  readonly id: string;
  readonly role: Role;
  /** Who it is, for people (a JWT's `name`); default the id. */
  readonly name?: string;
}

/**
 * Checks a handshake token and says who it belongs to, or throws an `AuthError` saying why not.
 * Plug in your own (an OAuth introspection, a session store); {@link jwtVerifier} is built in.
 */
export type Verifier = (token: string | undefined) => Promise<Principal>;

/** Authentication failed; `reason` is sent to the client. */
export class AuthError extends TelekitError {
  readonly reason: 'missing' | 'invalid' | 'expired' | 'forbidden';
  constructor(reason: AuthError['reason'], message: string) {
    super('E_AUTH', message, { operation: 'authenticate', context: { reason } });
    this.name = 'AuthError';
    this.reason = reason;
  }
}

const ROLES = new Set<Role>(['viewer', 'operator', 'admin']);

/** Options of {@link jwtVerifier}. */
export interface JwtVerifierOptions {
  /** The HMAC secret (HS256), at least 32 bytes. */
  secret: string | Uint8Array;
  issuer?: string;
  audience?: string;
  /** Clock tolerance for `exp`, `nbf` and `iat`, seconds. Default 5. */
  clockTolerance?: number;
  /**
   * The longest a token may live, seconds: tokens must carry `exp` and `iat`, with `exp − iat` at
   * most this. Default 86 400 (a day). A token that never expires is refused.
   */
  maxLifetime?: number;
}

const key = (secret: string | Uint8Array) => {
  const bytes = typeof secret === 'string' ? new TextEncoder().encode(secret) : secret;
  if (bytes.byteLength < 32)
    throw new TelekitError('E_CONFIG', 'jwt secret must be at least 32 bytes', {
      context: { bytes: bytes.byteLength },
    });
  return bytes;
};

/**
 * A {@link Verifier} for signed JWTs (HS256, through `jose`): `sub` is the id, the `role` claim the
 * role, `name` (optional) the display name. A missing, malformed, badly signed or expired token is
 * refused with the reason; so is one without `exp` or `iat`, one issued in the future, and one that
 * lives longer than `maxLifetime`.
 *
 * @example
 * ```ts
 * import { jwtVerifier, signToken } from '@telekit/gateway';
 * const secret = 'a-long-random-secret-of-32-bytes-or-more';
 * const verify = jwtVerifier({ secret });
 * const token = await signToken({ sub: 'alice', role: 'operator' }, { secret, expiresIn: '1h' });
 * await verify(token); // { id: 'alice', role: 'operator' }
 * ```
 */
export function jwtVerifier(options: JwtVerifierOptions): Verifier {
  const secret = key(options.secret);
  const tolerance = options.clockTolerance ?? 5;
  const maxLifetime = options.maxLifetime ?? 86_400;
  return async (token) => {
    if (token === undefined || token === '')
      throw new AuthError('missing', 'no token in the handshake auth payload');
    let payload: Record<string, unknown>;
    try {
      ({ payload } = await jwtVerify(token, secret, {
        algorithms: ['HS256'],
        clockTolerance: tolerance,
        requiredClaims: ['exp', 'iat', 'sub'],
        ...(options.issuer ? { issuer: options.issuer } : {}),
        ...(options.audience ? { audience: options.audience } : {}),
      }));
    } catch (error) {
      if (error instanceof joseErrors.JWTExpired) throw new AuthError('expired', 'token expired');
      const why = error instanceof Error ? error.message : String(error);
      throw new AuthError('invalid', `invalid token: ${why.toLowerCase()}`);
    }
    const { exp, iat } = payload as { exp: number; iat: number };
    if (iat > Date.now() / 1000 + tolerance)
      throw new AuthError('invalid', 'invalid token: iat is in the future');
    if (exp - iat > maxLifetime)
      throw new AuthError('invalid', `invalid token: lives longer than the limit of ${maxLifetime} s`);
    const sub = payload.sub;
    const role = payload.role;
    const name = payload.name;
    if (typeof sub !== 'string' || sub === '' || sub.length > 64)
      throw new AuthError('invalid', 'invalid token: sub must be a string of 1–64 characters');
    if (typeof role !== 'string' || !ROLES.has(role as Role)) {
      throw new AuthError('invalid', 'invalid token: role must be viewer, operator or admin');
    }
    if (name !== undefined && (typeof name !== 'string' || name.length > 64))
      throw new AuthError('invalid', 'invalid token: name must be a string of at most 64 characters');
    return { id: sub, role: role as Role, ...(name ? { name } : {}) };
  };
}

/** Signs a token for {@link jwtVerifier} (for tests, demos and your own login endpoint). */
export async function signToken(
  claims: { sub: string; role: Role; name?: string },
  options: { secret: string | Uint8Array; expiresIn?: string | number; issuer?: string; audience?: string },
): Promise<string> {
  let jwt = new SignJWT({ role: claims.role, ...(claims.name ? { name: claims.name } : {}) })
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject(claims.sub)
    .setIssuedAt();
  jwt = jwt.setExpirationTime(options.expiresIn ?? '1h');
  if (options.issuer) jwt = jwt.setIssuer(options.issuer);
  if (options.audience) jwt = jwt.setAudience(options.audience);
  return jwt.sign(key(options.secret));
}

/** A verifier that lets everyone in with one role: for a demo on a trusted network only. */
export function openAccess(role: Role = 'operator'): Verifier {
  return async () => ({ id: 'anonymous', role });
}

/** What a role may subscribe to and publish: topic names, or prefixes ending in `*`. */
export interface TopicRules {
  subscribe: readonly string[];
  publish: readonly string[];
}

/** Per-role allow-lists. */
export type AccessList = Readonly<Record<Role, TopicRules>>;

/**
 * The default allow-lists: viewers watch telemetry and media; operators and admins also publish
 * commands. Nobody publishes telemetry through the gateway unless you allow it (a remote robot).
 */
export const defaultAccessList: AccessList = {
  viewer: { subscribe: ['/telemetry/*', '/media/*'], publish: ['/media/*'] },
  operator: { subscribe: ['*'], publish: ['/controller/*', '/media/*'] },
  admin: { subscribe: ['*'], publish: ['/controller/*', '/media/*'] },
};

/**
 * An access list that also lets `roles` publish `topics` (names or `prefix*` patterns): for a plugin
 * whose topics clients send, such as a browser simulator's divergence reports.
 *
 * @example
 * ```ts
 * gateway({ auth, acl: allowPublishing(defaultAccessList, ['/telemetry/sim_divergence']) });
 * ```
 */
export function allowPublishing(
  acl: AccessList,
  topics: readonly string[],
  roles: readonly Role[] = ['operator', 'admin'],
): AccessList {
  const out = { ...acl } as Record<Role, TopicRules>;
  for (const role of roles) out[role] = { ...acl[role], publish: [...acl[role].publish, ...topics] };
  return out;
}

/** True when `topic` matches one of `patterns` (exact, or a prefix before `*`). */
export function allowed(patterns: readonly string[], topic: string): boolean {
  return patterns.some((p) => (p.endsWith('*') ? topic.startsWith(p.slice(0, -1)) : p === topic));
}
