import { RedisBus } from '@switchboard/backplane-redis';
import { MemoryBroker } from '@switchboard/hub-server/backplane';
import { startRedisCluster, uniquePrefix } from '../support/redis.js';
import { busContract } from './bus-contract.js';

// The same receiver-count cases over every Bus: in memory, standalone Redis (PUBLISH / PUBSUB
// NUMSUB, at REDIS_URL or 127.0.0.1:6379) and a private 3-master Redis Cluster (SPUBLISH /
// SHARDNUMSUB). Channels carry a unique prefix, so a shared Redis is fine.

busContract('MemoryBus', async () => {
  const broker = new MemoryBroker();
  return { bus: () => broker.bus(), channel: (label) => `mem:${label}`, close: async () => {} };
});

busContract('RedisBus (standalone)', async () => {
  const url = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
  const prefix = uniquePrefix('bus-contract');
  return { bus: () => new RedisBus({ redis: url }), channel: (label) => `${prefix}${label}`, close: async () => {} };
});

busContract('RedisBus (3-master Cluster)', async () => {
  const cluster = await startRedisCluster(3);
  const prefix = uniquePrefix('bus-contract');
  return { bus: () => new RedisBus({ redis: { cluster: cluster.nodes.split(',') } }), channel: (label) => `${prefix}${label}`, close: () => cluster.stop() };
});
