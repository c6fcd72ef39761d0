import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRedis, uniquePrefix, type PrivateRedis } from '../../../test/support/redis.js';
import { JobList } from './job-list.js';
import { JobStore } from './job-store.js';
import { JobKeys } from './keys.js';

describe('the list index: JobStore keeps it, JobList pages it (private redis-server)', () => {
  let server: PrivateRedis;
  let redis: Redis;
  let keys: JobKeys;
  let store: JobStore;
  let list: JobList;
  let n = 0;
  const newId = () => `list${String(++n).padStart(12, '0')}`;
  const every = { everyOwner: true };

  beforeAll(async () => {
    server = await startRedis();
    redis = new Redis(server.url, { maxRetriesPerRequest: 1 });
    keys = new JobKeys(uniquePrefix('list'));
    store = new JobStore(redis, keys, 600);
    list = new JobList(redis, keys, store);
  });
  afterAll(async () => {
    redis?.disconnect();
    await server?.stop();
  });

  it('pages newest first, counts per state, follows state changes, and scopes by owner and name', async () => {
    // 7 jobs: ana's 4 (3 report, 1 note), bob's 2, 1 anonymous; created 1 ms apart.
    const made: { id: string; name: string; owner?: string }[] = [];
    const specs: [string, string | undefined][] = [
      ['report', 'ana'], ['report', 'ana'], ['note', 'ana'], ['report', 'bob'], ['report', 'ana'], ['note', 'bob'], ['report', undefined],
    ];
    for (const [i, [name, owner]] of specs.entries()) {
      const id = newId();
      await store.create(id, name, owner, {}, 1000 + i);
      made.push({ id, name, ...(owner ? { owner } : {}) });
    }
    const v0 = await list.version();
    await store.update(made[0]!.id, { state: 'active' });
    await store.update(made[0]!.id, { progress: 50 }); // not a state change: same counts, same version bump count
    await store.update(made[1]!.id, { state: 'active' });
    await store.update(made[1]!.id, { state: 'completed', result: 1 });
    await store.update(made[3]!.id, { state: 'active' });
    await store.update(made[3]!.id, { state: 'failed', error: 'x' });
    expect(Number(await list.version())).toBe(Number(v0) + 5);

    const all = await list.page(every, {});
    expect(all.jobs.map((j) => j.jobId)).toEqual(made.map((m) => m.id).reverse());
    expect(all.counts).toEqual({ queued: 4, delayed: 0, active: 1, completed: 1, failed: 1, cancelled: 0 });
    expect(all.nextCursor).toBeUndefined();

    // Paging: 3 at a time.
    const p1 = await list.page(every, { limit: 3 });
    const p2 = await list.page(every, { limit: 3, cursor: p1.nextCursor });
    const p3 = await list.page(every, { limit: 3, cursor: p2.nextCursor });
    expect([...p1.jobs, ...p2.jobs, ...p3.jobs].map((j) => j.jobId)).toEqual(made.map((m) => m.id).reverse());
    expect(p3.nextCursor).toBeUndefined();

    // A state's page by rank within its band, 2 at a time; past its end, nothing.
    const q1 = await list.page(every, { state: 'queued', limit: 2 });
    const q2 = await list.page(every, { state: 'queued', limit: 2, cursor: q1.nextCursor });
    expect([...q1.jobs, ...q2.jobs].map((j) => j.jobId)).toEqual([made[6]!, made[5]!, made[4]!, made[2]!].map((m) => m.id));
    expect(q2.nextCursor).toBeUndefined();
    expect((await list.page(every, { state: 'active', cursor: '1' })).jobs).toEqual([]);
    expect((await list.page(every, { state: 'cancelled' })).jobs).toEqual([]);

    // By state (waiting = queued), by name, by owner, by owner and name.
    expect((await list.page(every, { state: 'waiting' })).jobs.map((j) => j.jobId)).toEqual([made[6]!, made[5]!, made[4]!, made[2]!].map((m) => m.id));
    expect((await list.page(every, { state: 'failed' })).jobs.map((j) => j.jobId)).toEqual([made[3]!.id]);
    const notes = await list.page(every, { name: 'note' });
    expect(notes.jobs.map((j) => j.name)).toEqual(['note', 'note']);
    expect(notes.counts.queued).toBe(2);
    const ana = await list.page({ everyOwner: false, owner: 'ana' }, {});
    expect(ana.jobs.every((j) => j.owner === 'ana')).toBe(true);
    expect(ana.counts).toEqual({ queued: 2, delayed: 0, active: 1, completed: 1, failed: 0, cancelled: 0 });
    expect((await list.page({ everyOwner: false, owner: 'ana' }, { name: 'report', state: 'queued' })).jobs.map((j) => j.jobId)).toEqual([made[4]!.id]);
    expect((await list.page({ everyOwner: false }, {})).jobs.map((j) => j.jobId)).toEqual([made[6]!.id]); // anonymous: the anonymous jobs
    expect(await list.counts({ everyOwner: false, owner: 'bob' })).toEqual({ queued: 1, delayed: 0, active: 0, completed: 0, failed: 1, cancelled: 0 });
  });

  it('reopen (retry) moves a failed job back to queued with a higher seq; remove drops a finished one', async () => {
    const id = newId();
    await store.create(id, 'report', 'cy', {}, 5000);
    await store.update(id, { state: 'active' });
    expect(await store.reopen(id)).toEqual({ state: 'active' });
    expect(await store.remove(id)).toBe('active');
    const failed = await store.update(id, { state: 'failed', error: 'boom', stage: 'render' });
    const reopened = await store.reopen(id);
    expect(reopened).toMatchObject({ snapshot: { state: 'queued', seq: failed!.seq + 1, progress: 0 } });
    expect((reopened as { snapshot: object }).snapshot).not.toHaveProperty('error');
    expect(await list.counts({ everyOwner: false, owner: 'cy' })).toMatchObject({ queued: 1, failed: 0 });
    await store.update(id, { state: 'completed' });
    expect(await store.remove(id)).toBe(true);
    expect(await store.get(id)).toBeUndefined();
    expect(await list.counts({ everyOwner: false, owner: 'cy' })).toMatchObject({ queued: 0, completed: 0 });
    expect((await list.page({ everyOwner: false, owner: 'cy' }, {})).jobs).toEqual([]);
    expect(await store.remove(id)).toBeUndefined();
    expect(await store.reopen('nope00000000')).toBeUndefined();
  });

  it("a worker's `active` (indexActiveLater) leaves the job in its band until indexActive or its next state", async () => {
    const scope = { everyOwner: false, owner: 'fay' };
    const [quick, slow] = [newId(), newId()];
    await store.create(quick, 'report', 'fay', {}, 6000);
    await store.create(slow, 'report', 'fay', {}, 6001);
    const v0 = Number(await list.version());
    for (const id of [quick, slow]) {
      expect(await store.update(id, { state: 'active' }, undefined, { unlessCancelRequested: true, indexActiveLater: true })).toMatchObject({ state: 'active' });
    }
    // Watchers and get see `active`; the list still counts both queued, and nothing was bumped.
    expect(await store.get(slow)).toMatchObject({ state: 'active' });
    expect(await list.counts(scope)).toMatchObject({ queued: 2, active: 0 });
    expect(Number(await list.version())).toBe(v0);
    // The quick one ends: straight from queued to completed. The slow one is still running: moved.
    await store.update(quick, { state: 'completed' });
    expect(await store.indexActive(quick)).toBe(false);
    expect(await store.indexActive(slow)).toBe(true);
    expect(await list.counts(scope)).toMatchObject({ queued: 0, active: 1, completed: 1 });
    expect((await list.page(scope, { state: 'active' })).jobs.map((j) => j.jobId)).toEqual([slow]);
    expect(Number(await list.version())).toBe(v0 + 2);
    // Idempotent, and any order against the job's own writes.
    expect(await store.indexActive(slow)).toBe(true);
    await store.update(slow, { state: 'failed', error: 'x' });
    expect(await store.indexActive(slow)).toBe(false);
    expect(await list.counts(scope)).toMatchObject({ queued: 0, active: 0, completed: 1, failed: 1 });
  });

  it('an idempotency key returns the first job for 24 h and creates nothing', async () => {
    const a = newId();
    const b = newId();
    expect(await store.create(a, 'report', 'dee', { idempotencyKey: 'order-17' })).toMatchObject({ created: true, jobId: a, snapshot: { jobId: a, owner: 'dee', seq: 1 } });
    expect(await store.create(b, 'report', 'dee', { idempotencyKey: 'order-17' })).toEqual({ created: false, jobId: a });
    expect(await store.get(b)).toBeUndefined();
    expect(await redis.ttl(keys.idempotency('order-17'))).toBeGreaterThan(86_000);
    expect((await list.page({ everyOwner: false, owner: 'dee' }, {})).jobs.map((j) => j.jobId)).toEqual([a]);
  });

  it('an expired record is dropped from the page and from the index', async () => {
    const id = newId();
    await store.create(id, 'report', 'eve');
    await redis.del(keys.snapshot(id));
    expect((await list.page({ everyOwner: false, owner: 'eve' }, {})).jobs).toEqual([]);
    await expect.poll(async () => (await list.counts({ everyOwner: false, owner: 'eve' })).queued).toBe(0);
  });

  it('refuses bad queries with SB_JOB_LIST_INVALID naming the field', () => {
    const bad: [unknown, RegExp][] = [
      [{ state: 'done' }, /state must be one of queued, delayed, active, completed, failed, cancelled \(or waiting\), got "done"/],
      [{ limit: 0 }, /limit must be an integer from 1 to 200, got 0/],
      [{ limit: '500' }, /limit must be an integer from 1 to 200/],
      [{ cursor: 'abc' }, /cursor must be the nextCursor of a previous page, got "abc"/],
      [{ name: 5 }, /name must be a job name, got 5/],
      [[1], /the query must be an object/],
    ];
    for (const [q, message] of bad) expect(() => JobList.parse(q)).toThrow(expect.objectContaining({ code: 'SB_JOB_LIST_INVALID', message: expect.stringMatching(message) }));
    expect(JobList.parse({ state: 'waiting', limit: '20', cursor: '40' })).toEqual({ state: 'queued', name: undefined, limit: 20, offset: 40 });
  });
});
