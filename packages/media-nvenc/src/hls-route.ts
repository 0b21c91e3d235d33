/**
 * HLS over the gateway: the route that serves each stream's playlist and segments under
 * `/media/hls/<stream>/<file>`, mounted on the running gateway by the small {@link hlsRoute} plugin.
 * The gateway checks who may fetch them (its verifier and access list, through the route's access
 * rule); this module owns only the files: which names may be asked for, their content types and
 * caching, and the answer for a playlist not written yet.
 */
import { readFile } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { join } from 'node:path';
import { MediaSignallingToken, type Plugin, type Token, token } from '@telekit/core';

/** Where the files are served: `/media/hls/<stream>/index.m3u8` and its segments. */
export const HLS_PREFIX = '/media/hls/';

/** The topic a role must be allowed to subscribe to (in the gateway's access list) to fetch HLS. */
export const HLS_TOPIC = '/media/hls';

const hlsFile = /^\/media\/hls\/([\w.-]{1,128})\/([\w.-]{1,128}\.(m3u8|ts|m4s|mp4))$/;
const hlsTypes: Record<string, string> = {
  m3u8: 'application/vnd.apple.mpegurl',
  ts: 'video/mp2t',
  m4s: 'video/iso.segment',
  mp4: 'video/mp4',
};

/** An HTTP route's handler as the gateway calls it (`@telekit/gateway`'s `RouteHandler`). */
type HlsHandler = (
  req: IncomingMessage,
  res: ServerResponse,
  principal?: { readonly id: string; readonly role: string },
) => boolean | Promise<boolean>;

/** What this plugin needs of the running gateway (`@telekit/gateway`'s `Gateway`). */
interface HlsGateway {
  route(prefix: string, handler: HlsHandler, access: { subscribe: string }): () => void;
}

/** `@telekit/gateway`'s `GatewayToken`, by its key, so this package does not depend on the gateway. */
const HlsGatewayToken: Token<HlsGateway> = token<HlsGateway>('@telekit/gateway/Gateway');

/** Answers a request with `status` and a line of text; true, as a route that answered returns. */
function answer(res: ServerResponse, status: number, text: string, headers: Record<string, string> = {}) {
  res.writeHead(status, { 'content-type': 'text/plain', ...headers }).end(`${text}\n`);
  return true;
}

/**
 * The route's handler: the files of the media plugin's HLS directories. The gateway has let the
 * request in before it runs; asking for a stream's directory holds the stream (starts its encoder),
 * which is why nobody unauthenticated may reach it.
 */
function hlsHandler(hlsDirectory: (stream: string) => string | undefined): HlsHandler {
  return async (req, res, principal) => {
    // A gateway that did not check the route's access rule (one older than route access) calls
    // without a principal: nothing is served then, rather than video to anyone.
    if (!principal) return answer(res, 403, 'this gateway does not check route access');
    const m = hlsFile.exec((req.url ?? '/').split('?')[0] ?? '/');
    const dir = m ? hlsDirectory(m[1]!) : undefined;
    if (!m || !dir) return answer(res, 404, 'no such stream or file');
    let body: Buffer;
    try {
      body = await readFile(join(dir, m[2]!));
    } catch {
      // The playlist of a stream whose encoder was just started is written with its first segment:
      // 503 with Retry-After until then (players retry a 5xx, not a 404). A missing segment rolled
      // off the playlist between listing and fetching: 404.
      if (m[3] === 'm3u8') return answer(res, 503, 'the stream is starting', { 'retry-after': '1' });
      return answer(res, 404, 'gone');
    }
    res
      .writeHead(200, {
        'content-type': hlsTypes[m[3]!]!,
        'cache-control': m[3] === 'm3u8' ? 'no-cache' : 'max-age=60',
      })
      .end(body);
    return true;
  };
}

/**
 * Serves the media plugin's HLS copies through the gateway, under `/media/hls/<stream>/`, to whoever
 * the gateway lets in: a token it verifies (`Authorization: Bearer …`, or `?token=` as players that
 * cannot set headers send it) of a role its access list lets subscribe to `/media/hls` (viewers,
 * operators and admins by default). A playlist not written yet (its encoder just started) is a 503
 * with `Retry-After`, which players retry.
 *
 * A plugin of its own because of the order plugins are set up in: the gateway uses the media
 * plugin's signalling (`MediaSignallingToken`), so the media plugin comes before the gateway, and
 * this one, which needs both, after it. Put it beside `nvencMedia()`; `@telekit/presets` does.
 *
 * @example
 * ```ts
 * import { createApp, inProcess } from '@telekit/core';
 * import { gateway, jwtVerifier } from '@telekit/gateway';
 * import { hlsRoute, nvencMedia } from '@telekit/media-nvenc';
 * const app = createApp({
 *   plugins: [
 *     inProcess(),
 *     nvencMedia({ streams: [{ id: 'cam' }] }),
 *     hlsRoute(),
 *     gateway({ auth: jwtVerifier({ secret }) }),
 *   ],
 * });
 * await app.start(); // GET /media/hls/cam/index.m3u8?token=… plays in hls.js or Safari
 * ```
 */
export function hlsRoute(): Plugin {
  return {
    name: '@telekit/media-nvenc/hls',
    kind: 'media',
    requires: [HlsGatewayToken, MediaSignallingToken],
    setup(ctx) {
      const media = ctx.resolve(MediaSignallingToken);
      if (!media.hlsDirectory) {
        ctx.logger.warn('HLS not served: the media signalling has no hlsDirectory');
        return;
      }
      const handler = hlsHandler((stream) => media.hlsDirectory?.(stream));
      return ctx.resolve(HlsGatewayToken).route(HLS_PREFIX, handler, { subscribe: HLS_TOPIC });
    },
  };
}
