import { Emitter } from '@socket.io/redis-emitter';
import { Redis } from 'ioredis';
import { monoMs } from '../clock.js';
import { PAD, serveSource } from './source.js';

/** Socket.IO's publisher: @socket.io/redis-emitter, `emitter.to(room).emit('tick', payload)`. */
const redis = new Redis(process.env['REDIS_URL']!);
const emitter = new Emitter(redis);
const rooms = Array.from({ length: Number(process.env['GROUPS']) }, (_, g) => `g${g}`);

serveSource(
  (seq) => {
    emitter.to(rooms[seq % rooms.length]!).emit('tick', { t: monoMs(), s: seq, p: PAD });
  },
  {},
  async () => {
    await redis.quit();
  },
);
