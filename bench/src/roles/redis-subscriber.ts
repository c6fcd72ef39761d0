import { Redis } from 'ioredis';
import { serve, send } from './rpc.js';

/** The Redis limit's subscriber (one per lane): counts messages on the channel, as a hub node's subscriber would receive them. */
const redis = new Redis(process.env['REDIS_URL']!);
const channel = `${process.env['REDIS_PREFIX'] ?? 'bench:'}limit`;
const lane = Number(process.env['LANE'] ?? 0);
const counts = [0, 0];
let reported = -1;
redis.on('messageBuffer', () => {
  counts[lane]!++;
});
setInterval(() => {
  if (counts[lane] === reported) return;
  reported = counts[lane]!;
  send({ ev: 'count', counts });
}, 10).unref();

serve({
  start: async () => {
    await redis.subscribe(channel);
    return null;
  },
});
