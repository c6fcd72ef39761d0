import { quitClient } from '@switchboard/backplane-redis';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRedis, uniquePrefix, type PrivateRedis } from '../../../test/support/redis.js';
import { commandClient, requestClient } from './redis-client.js';

describe("the jobs' Redis connections (private redis-server)", () => {
  let server: PrivateRedis;
  const open: Redis[] = [];

  beforeAll(async () => {
    server = await startRedis();
  });
  afterAll(async () => {
    for (const c of open) await quitClient(c);
    await server?.stop();
  });

  async function ready(client: Redis): Promise<Redis> {
    open.push(client);
    if (client.status !== 'ready') await new Promise((r) => client.once('ready', r));
    return client;
  }

  /** Counts the socket's writes: `_write` one chunk, `_writev` several in one system call. */
  function countWrites(client: Redis): { write: number; writev: number; chunks: number } {
    const stream = client.stream as unknown as { _write: (...a: unknown[]) => void; _writev: (chunks: unknown[], cb: unknown) => void };
    const counts = { write: 0, writev: 0, chunks: 0 };
    const write = stream._write.bind(stream);
    const writev = stream._writev.bind(stream);
    stream._write = (...a) => {
      counts.write++;
      counts.chunks++;
      write(...a);
    };
    stream._writev = (chunks, cb) => {
      counts.writev++;
      counts.chunks += chunks.length;
      writev(chunks, cb);
    };
    return counts;
  }

  it('commands sent in one turn of the event loop leave in one write, in order', async () => {
    for (const client of [await ready(commandClient(server.url).client as Redis), await ready(requestClient(server.url, 2000).client as Redis)]) {
      const key = uniquePrefix('cork');
      const counts = countWrites(client);
      expect(await Promise.all([client.set(key, '1'), client.incr(key), client.incrby(key, 5), client.get(key), client.del(key)])).toEqual(['OK', 2, 7, '7', 1]);
      expect(counts).toEqual({ write: 0, writev: 1, chunks: 5 });
      // Turn by turn: one write each.
      expect(await client.set(key, 'a')).toBe('OK');
      expect(await client.get(key)).toBe('a');
      expect(counts).toMatchObject({ writev: 1, write: 2 });
    }
  });

  it('the request connection still answers within its timeout when Redis does not answer', async () => {
    const client = await ready(requestClient(server.url, 200).client as Redis);
    const admin = await ready(commandClient(server.url).client as Redis);
    await admin.call('CLIENT', 'PAUSE', '1500', 'ALL');
    const t0 = Date.now();
    await expect(Promise.all([client.get('a'), client.get('b')])).rejects.toThrow(/timed out/i);
    expect(Date.now() - t0).toBeLessThan(1000);
    await new Promise((r) => setTimeout(r, 1600));
    expect(await client.set(uniquePrefix('after'), '1')).toBe('OK');
  });
});
