/**
 * The one place where the gateway under attack is configured, and the figures the attacks judge it
 * by (the specification's, and where it gives none the gateway's documented defaults). The target
 * process (fixtures/target.ts) builds its gateway from {@link gatewayOptions}; the tests read the
 * figures below. When an option or a default changes in the gateway, change it here only.
 *
 * @module
 */
import type { Logger, Transport } from '@telekit/core';
import type { GatewayOptions } from '../src/index.js';
import { jwtVerifier } from '../src/index.js';

/** The HMAC secret of every token the attacks sign (HS256, at least 32 bytes). */
export const SECRET = 'attack-suite-secret-that-is-at-least-32-bytes';

/** Largest message a client may send (the gateway's default), bytes. */
export const MAX_PAYLOAD_BYTES = 16_384;
/**
 * The engine.io frame ceiling is four times {@link MAX_PAYLOAD_BYTES} (at least 64 KiB): frames
 * larger than that close the connection; between the two, a message is answered E_PAYLOAD_TOO_LARGE.
 */
export const OVERSIZED_FRAME_BYTES = 5 * MAX_PAYLOAD_BYTES;
/** A message above the payload limit but below the frame ceiling: refused with E_PAYLOAD_TOO_LARGE. */
export const LARGE_MESSAGE_BYTES = MAX_PAYLOAD_BYTES + 4_096;

/** "An engine.io connection that has not authenticated within ~5 s is closed." */
export const AUTH_TIMEOUT_MS = 5_000;
/** How long after {@link AUTH_TIMEOUT_MS} the attacks wait before calling a connection left open. */
export const AUTH_TIMEOUT_SLACK_MS = 15_000;

/**
 * Pre-authentication connections one source address may hold at once (the gateway's default). The
 * attacks open three times as many and expect no more than this to stay open.
 */
export const PRE_AUTH_CONNECTIONS_PER_ADDRESS = 16;
/**
 * TCP connections one source address may hold before their first request's headers are in (the
 * gateway's default `preHeaderPerAddress`): one more is closed as it is accepted.
 */
export const PRE_HEADER_CONNECTIONS_PER_ADDRESS = 32;
/** Sessions one principal may hold at once (the gateway's default). */
export const SESSIONS_PER_PRINCIPAL = 32;
/**
 * What all the sessions of one principal, or everything from one address, may use together: this
 * many times one session's rates (the gateway's defaults).
 */
export const PRINCIPAL_FACTOR = 2;
export const ADDRESS_FACTOR = 16;

/** The built-in verifier's default maximum token lifetime (exp − iat), seconds. */
export const MAX_TOKEN_LIFETIME_S = 24 * 3600;
/** The verifier's clock tolerance, seconds (its default). */
export const CLOCK_TOLERANCE_S = 5;

/** The deadline of motion topics (twist, joints, gamepad), ms. */
export const MOTION_TTL_MS = 250;
/** The default request rate limit per session (`sub`, `unsub`, `lease`, `time`): rate/s and burst. */
export const REQUEST_RATE = { rate: 50, burst: 100 } as const;

/**
 * A slowloris connection (headers dribbled, or nothing sent at all) must be cut within this long.
 * Node's defaults (headersTimeout 60 s, checked every 30 s) take up to 90 s; the gateway should set
 * `headersTimeout` to about 10 s and `connectionsCheckingInterval` to a few seconds.
 */
export const SLOWLORIS_CUT_MS = 45_000;

/** The events each namespace accepts from clients (anything else closes the connection). */
export const CLIENT_EVENTS = {
  '/control': ['pub', 'sub', 'unsub', 'lease', 'time'],
  '/telemetry': ['pub', 'sub', 'unsub', 'req'],
} as const;
/** The events the gateway may send. */
export const SERVER_EVENTS = ['welcome', 'b', 'lease', 'estop', 'health', 'fault'] as const;
/** The refusal codes of `pub`. */
export const PUB_CODES = [
  'E_STALE',
  'E_OUT_OF_ORDER',
  'E_NOT_HOLDER',
  'E_ESTOP',
  'E_RATE_LIMITED',
  'E_VALIDATION',
  'E_PAYLOAD_TOO_LARGE',
  'E_FORBIDDEN',
  'E_UNKNOWN_TOPIC',
  'E_WRONG_LANE',
  // A topic that is not a string at all is a malformed request rather than an unknown topic.
  'E_BAD_REQUEST',
] as const;

/** Which gateway a target process runs. */
export type Profile =
  /** The defaults, as a deployment would run them (rate limits, caps and timeouts on). */
  | 'default'
  /** Rate limits raised so that fuzzed frames reach the handlers rather than the rate limiter. */
  | 'fuzz'
  /** An explicit browser origin allow-list. */
  | 'origins';

/** The origin the `origins` profile allows. */
export const ALLOWED_ORIGIN = 'https://console.example';

/** What the target process hands the gateway besides its options. */
export interface TargetParts {
  transport: Transport;
  logger: Logger;
  staticDir: string;
  routes: NonNullable<GatewayOptions['routes']>;
}

/** The gateway's options for a profile: the only place the attacks configure the gateway. */
export function gatewayOptions(profile: Profile, parts: TargetParts): GatewayOptions {
  // The default profile passes only what the target needs: every limit, timeout and check is the
  // gateway's default, which is what the attacks judge.
  const auth = jwtVerifier({ secret: SECRET });
  const options = {
    transport: parts.transport,
    auth,
    logger: parts.logger,
    staticDir: parts.staticDir,
    routes: parts.routes,
    ...(profile === 'fuzz'
      ? {
          // Fuzzed frames should reach the handlers, not the rate limiter or the offender rules
          // (those are attacked by their own cases and by the flood benchmark).
          limits: {
            commands: { rate: 1e6, burst: 1e6 },
            requests: { rate: 1e6, burst: 1e6 },
            quietAfter: 1e9,
            disconnectAfter: 1e9,
          },
        }
      : {}),
    ...(profile === 'origins' ? { origins: [ALLOWED_ORIGIN] } : {}),
  };
  return options as GatewayOptions;
}
