import { createServer } from 'node:http';
import { createAdapter } from '@socket.io/redis-adapter';
import { Redis } from 'ioredis';
import { Server } from 'socket.io';
import { serve } from './rpc.js';

/**
 * A Socket.IO 4 node: @socket.io/redis-adapter (classic pub/sub, ioredis as its docs recommend),
 * one event `join(room, ack)`. Defaults otherwise (no compression, as Switchboard).
 */
const pub = new Redis(process.env['REDIS_URL']!);
const sub = pub.duplicate();
const http = createServer();
const io = new Server(http, { adapter: createAdapter(pub, sub), serveClient: false });
io.on('connection', (socket) => {
  socket.on('join', (room: unknown, ack: unknown) => {
    if (typeof room === 'string') void socket.join(room);
    if (typeof ack === 'function') ack();
  });
});

serve({
  start: () =>
    new Promise((resolve) => {
      http.listen(0, '127.0.0.1', () => {
        const addr = http.address() as { port: number };
        resolve({ url: `http://127.0.0.1:${addr.port}` });
      });
    }),
  connections: () => io.engine.clientsCount,
});
process.on('SIGTERM', () => {
  void io.close();
  pub.disconnect();
  sub.disconnect();
  process.exit(0);
});
