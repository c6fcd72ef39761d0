import { startRedis, uniquePrefix } from '../support/redis.js';
import { scaleOutContract } from './contract-suite.js';
import { startContractNodes } from './nodes.js';

// Two contract node processes over a private standalone redis-server (PUBLISH/SUBSCRIBE).
scaleOutContract('Redis backplane (standalone): two hub node processes', async () => {
  const redis = await startRedis();
  try {
    return await startContractNodes({ REDIS_URL: redis.url, REDIS_PREFIX: uniquePrefix('contract') }, () => redis.stop());
  } catch (err) {
    await redis.stop();
    throw err;
  }
});
