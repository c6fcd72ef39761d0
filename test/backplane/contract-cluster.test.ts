import { startRedisCluster, uniquePrefix } from '../support/redis.js';
import { scaleOutContract } from './contract-suite.js';
import { startContractNodes } from './nodes.js';

// Two contract node processes over a private 3-master Redis Cluster (SPUBLISH/SSUBSCRIBE).
scaleOutContract('Redis backplane (3-master Cluster): two hub node processes', async () => {
  const cluster = await startRedisCluster(3);
  try {
    return await startContractNodes({ REDIS_CLUSTER_NODES: cluster.nodes, REDIS_PREFIX: uniquePrefix('contract') }, () => cluster.stop());
  } catch (err) {
    await cluster.stop();
    throw err;
  }
});
