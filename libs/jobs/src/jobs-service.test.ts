import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { startRedis, uniquePrefix, type PrivateRedis } from '../../../test/support/redis.js';
import { defineJob } from './define-job.js';
import { JobsService } from './jobs-service.js';
import { JobKeys } from './keys.js';
import { CREATE_SCRIPT } from './store-scripts.js';

/** A line of the create script (MONITOR shows a script's text escaped, so it is found by a line of it). */
const CREATE_MARK = 'if KEYS[2] ~= KEYS[1] then';
if (!CREATE_SCRIPT.body.includes(CREATE_MARK)) throw new Error('CREATE_MARK is no longer a line of CREATE_SCRIPT');

const noop = defineJob({ name: 'noop', schema: z.object({}), async process() {} });

describe('JobsService.enqueue (private redis-server, no worker)', () => {
  let server: PrivateRedis;
  let redis: Redis;
  let service: JobsService<[typeof noop]>;
  let keys: JobKeys;

  beforeAll(async () => {
    server = await startRedis();
    redis = new Redis(server.url, { maxRetriesPerRequest: 1 });
    const prefix = uniquePrefix('service');
    keys = new JobKeys(prefix);
    service = new JobsService({ jobs: [noop], redis: server.url, prefix, publish: async () => {} });
    await service.enqueue('noop', {}); // connected, BullMQ's scripts loaded
  });
  afterAll(async () => {
    await service?.close();
    redis?.disconnect();
    await server?.stop();
  });

  const reads = async () => Number(/total_reads_processed:(\d+)/.exec(await redis.info('stats'))![1]);

  it('writes the record and adds the BullMQ job in one round trip, the record first', async () => {
    const before = await reads();
    const { jobId } = await service.enqueue('noop', {});
    // The INFO above and below are one read each: the enqueue itself was one.
    expect((await reads()) - before).toBe(2);
    expect(await service.peek(jobId)).toMatchObject({ state: 'queued', seq: 1 });
    expect(await service.queue.getJob(jobId)).toBeDefined();
    // Scripts Redis lost (SCRIPT FLUSH, a restart, a failover) do not fail it: the record's script goes with its text.
    await redis.script('FLUSH');
    const again = await service.enqueue('noop', {});
    expect(await service.peek(again.jobId)).toMatchObject({ state: 'queued' });
    expect(await service.queue.getJob(again.jobId)).toBeDefined();
  });

  it('sends the record before the BullMQ add (a worker can never take a job whose record is not written yet)', async () => {
    const monitor = await redis.monitor();
    const seen: string[] = [];
    monitor.on('monitor', (_time: string, args: string[]) => {
      // Top-level script calls only (a script's own calls are other commands). The record's is an
      // EVAL of CREATE_SCRIPT; BullMQ's add is an EVALSHA, or an EVAL of its own script when Redis
      // did not hold it yet.
      if (args[0] === 'eval' || args[0] === 'evalsha') seen.push(args[0] === 'eval' && args[1]?.includes(CREATE_MARK) ? 'record' : 'other-script');
    });
    try {
      for (let i = 0; i < 5; i++) await service.enqueue('noop', {});
      await expect.poll(() => seen.length).toBeGreaterThanOrEqual(10);
    } finally {
      monitor.disconnect();
    }
    // Each enqueue: the record's EVAL, then BullMQ's add (EVALSHA), never the other way round.
    expect(seen.slice(0, 10)).toEqual(Array.from({ length: 5 }, () => ['record', 'other-script']).flat());
  });

  it('a record that cannot be written leaves no BullMQ job behind', async () => {
    let id = '';
    // The job's record key taken by a string: its script fails (WRONGTYPE) after the add was sent.
    const enqueue = service.enqueue('noop', {}, undefined, undefined, async (jobId) => {
      id = jobId;
      await redis.set(keys.snapshot(jobId), 'not a hash');
    });
    // Redis answered (WRONGTYPE): the message says it refused, not that it is unreachable.
    await expect(enqueue).rejects.toMatchObject({ code: 'SB_BACKPLANE_UNAVAILABLE', message: expect.stringMatching(/^Redis refused the enqueue \(WRONGTYPE/) });
    expect(id).not.toBe('');
    expect(await service.queue.getJob(id)).toBeUndefined();
  });

  it("hands BullMQ only the options that apply (no undefined keys: BullMQ looks at keys)", async () => {
    const plain = await service.enqueue('noop', {}, { watch: false } as never);
    const opts = (await service.queue.getJob(plain.jobId))!.opts;
    expect(opts).toMatchObject({ jobId: plain.jobId, attempts: 1, removeOnComplete: { age: 3600, count: 1000 }, removeOnFail: { age: 86400, count: 1000 } });
    for (const key of ['priority', 'delay']) expect(opts).not.toHaveProperty(key);
    const given = await service.enqueue('noop', {}, { priority: 7, delayMs: 60_000 });
    expect((await service.queue.getJob(given.jobId))!.opts).toMatchObject({ priority: 7, delay: 60_000 });
  });

  it('answers SB_BACKPLANE_UNAVAILABLE within timeoutMs when Redis does not answer', async () => {
    const prefix = uniquePrefix('service-timeout');
    const slow = new JobsService({ jobs: [noop], redis: server.url, prefix, publish: async () => {}, timeoutMs: 150 });
    await slow.enqueue('noop', {});
    await redis.call('CLIENT', 'PAUSE', '600', 'ALL');
    try {
      const t0 = performance.now();
      await expect(slow.enqueue('noop', {})).rejects.toMatchObject({ code: 'SB_BACKPLANE_UNAVAILABLE', message: expect.stringContaining('no answer within 150 ms') });
      expect(performance.now() - t0).toBeLessThan(500);
    } finally {
      await redis.call('CLIENT', 'UNPAUSE');
      await slow.close();
    }
  });

  it('a delayed job keeps its record for 24 h after it is due (a delay past 24 h)', async () => {
    const { jobId } = await service.enqueue('noop', {}, { delayMs: 48 * 3600_000 });
    expect(await service.peek(jobId)).toMatchObject({ state: 'delayed' });
    expect(await redis.ttl(keys.snapshot(jobId))).toBeGreaterThan(72 * 3600 - 10);
  });
});
