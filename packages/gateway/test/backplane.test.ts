import { randomBytes } from 'node:crypto';
import { silentLogger, systemClock } from '@telekit/core';
import { afterAll, beforeAll } from 'vitest';
import { localBackplane, redisBackplane } from '../src/index.js';
import { describeBackplane } from '../src/testing/index.js';
import { startRedis } from './redis.js';

// The one backplane of a single gateway.
describeBackplane('local', async () => {
  const a = localBackplane(systemClock);
  return { a, close: () => a.close() };
});

// Two instances on a real Redis, each harness under its own key prefix.
let redis: Awaited<ReturnType<typeof startRedis>>;
beforeAll(async () => {
  redis = await startRedis();
}, 30_000);
afterAll(() => redis.stop());

describeBackplane(
  'redis',
  async () => {
    const prefix = `kit-${randomBytes(4).toString('hex')}`;
    const a = await redisBackplane(redis.url, silentLogger, { prefix });
    const b = await redisBackplane(redis.url, silentLogger, { prefix });
    return {
      a,
      b,
      close: async () => {
        await a.close();
        await b.close();
      },
    };
  },
  { shared: true },
);
