/** Where to open an endpoint: its WebSocket URL and the links that open it in Foxglove and Lichtblick. */
export interface FoxgloveUrls {
  /** `ws://host:port/foxglove` (add `?token=…` when the gateway checks tokens). */
  ws: string;
  /** Foxglove in the browser: `https://app.foxglove.dev/?ds=foxglove-websocket&ds.url=…`. */
  foxgloveWeb: string;
  /** The Foxglove desktop app: `foxglove://open?ds=foxglove-websocket&ds.url=…`. */
  foxgloveDesktop: string;
  /** Lichtblick (the open-source fork) desktop: `lichtblick://open?ds=foxglove-websocket&ds.url=…`. */
  lichtblick: string;
}

/**
 * The URLs of a Foxglove endpoint on a gateway at `gatewayUrl` (`http://…`). A token is put in the
 * WebSocket URL's query only if given: links with a token in them are secrets.
 *
 * @example
 * ```ts
 * import { foxgloveUrls } from '@telekit/foxglove';
 * foxgloveUrls('http://127.0.0.1:8080').foxgloveWeb;
 * // 'https://app.foxglove.dev/?ds=foxglove-websocket&ds.url=ws%3A%2F%2F127.0.0.1%3A8080%2Ffoxglove'
 * ```
 */
export function foxgloveUrls(gatewayUrl: string, path = '/foxglove', token?: string): FoxgloveUrls {
  const base = gatewayUrl.replace(/^http/, 'ws').replace(/\/$/, '');
  const ws = `${base}${path}${token ? `?token=${encodeURIComponent(token)}` : ''}`;
  const ds = `ds=foxglove-websocket&ds.url=${encodeURIComponent(ws)}`;
  return {
    ws,
    foxgloveWeb: `https://app.foxglove.dev/?${ds}`,
    foxgloveDesktop: `foxglove://open?${ds}`,
    lichtblick: `lichtblick://open?${ds}`,
  };
}
