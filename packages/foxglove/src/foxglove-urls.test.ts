import { describe, expect, it } from 'vitest';
import { foxgloveUrls } from './foxglove-urls.js';

describe('foxgloveUrls', () => {
  it('makes the WebSocket URL and the links that open it', () => {
    const u = foxgloveUrls('http://127.0.0.1:8080', '/foxglove', 'a b');
    expect(u.ws).toBe('ws://127.0.0.1:8080/foxglove?token=a%20b');
    expect(u.foxgloveWeb).toBe(
      `https://app.foxglove.dev/?ds=foxglove-websocket&ds.url=${encodeURIComponent('ws://127.0.0.1:8080/foxglove?token=a%20b')}`,
    );
    expect(u.foxgloveDesktop.startsWith('foxglove://open?ds=foxglove-websocket&ds.url=ws%3A%2F%2F')).toBe(
      true,
    );
    expect(foxgloveUrls('https://robot.example/').ws).toBe('wss://robot.example/foxglove');
  });
});
