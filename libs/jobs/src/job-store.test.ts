import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRedis, uniquePrefix, type PrivateRedis } from '../../../test/support/redis.js';
import { JobStore, parseSnapshot } from './job-store.js';
import { JobKeys } from './keys.js';
import { MAX_ROUTES, OVERFLOW, routesOf } from './watch-routes.js';

describe('JobStore (private redis-server)', () => {
  let server: PrivateRedis;
  let redis: Redis;
  let keys: JobKeys;
  let store: JobStore;
  let n = 0;
  const newId = () => `job${String(++n).padStart(13, '0')}`;

  beforeAll(async () => {
    server = await startRedis();
    redis = new Redis(server.url, { maxRetriesPerRequest: 1 });
    keys = new JobKeys(uniquePrefix('store'));
    store = new JobStore(redis, keys, 600);
  });
  afterAll(async () => {
    redis?.disconnect();
    await server?.stop();
  });

  it('create: seq 1, queued, progress 0, attempt 1, with a retention TTL', async () => {
    const id = newId();
    const snapshot = { jobId: id, name: 'hash', seq: 1, state: 'queued', progress: 0, attempt: 1, createdAt: 1234, updatedAt: 1234 };
    // The answer carries the snapshot as written: what a read would return.
    expect(await store.create(id, 'hash', undefined, {}, 1234)).toEqual({ created: true, jobId: id, snapshot });
    expect(await store.get(id)).toEqual(snapshot);
    const ttl = await redis.ttl(keys.snapshot(id));
    expect(ttl).toBeGreaterThan(590);
    expect(ttl).toBeLessThanOrEqual(600);
    const ownedId = newId();
    await store.create(ownedId, 'pipeline', 'ana');
    expect((await store.get(ownedId))!.owner).toBe('ana');
    // Delayed (with its due time) and prioritized.
    const delayed = newId();
    await store.create(delayed, 'hash', undefined, { dueAt: 9999, priority: 3 }, 1234);
    expect(await store.get(delayed)).toMatchObject({ state: 'delayed', dueAt: 9999, priority: 3 });
  });

  it('a delayed job keeps its record for the retention after its due time, not after the enqueue', async () => {
    // Delayed by 48 h with a 600 s retention: a TTL counted from the enqueue would lose the record
    // long before the job runs (its watchers would get `lost`).
    const now = Date.now();
    const dueAt = now + 48 * 3600_000;
    const ttlOf = async (id: string) => redis.ttl(keys.snapshot(id));
    const id = newId();
    await store.create(id, 'hash', undefined, { dueAt }, now);
    expect(await ttlOf(id)).toBeGreaterThan(48 * 3600 + 590);
    expect(await ttlOf(id)).toBeLessThanOrEqual(48 * 3600 + 600);
    const [a, b] = [newId(), newId()];
    await store.createMany([{ jobId: a, name: 'hash', owner: undefined, options: { dueAt } }, { jobId: b, name: 'hash', owner: undefined }], now);
    expect(await ttlOf(a)).toBeGreaterThan(48 * 3600 + 590);
    expect(await ttlOf(b)).toBeLessThanOrEqual(600);
    // Once it runs, the retention counts from its last update again.
    await store.update(id, { state: 'active' });
    expect(await ttlOf(id)).toBeLessThanOrEqual(600);
  });

  it('update bumps seq by one each time and returns the whole snapshot', async () => {
    const id = newId();
    await store.create(id, 'hash', undefined, {}, 1000);
    const a = await store.update(id, { state: 'active', attempt: 1, startedAt: 1100, stage: 'hashing' }, 1100);
    expect(a).toEqual({ jobId: id, name: 'hash', seq: 2, state: 'active', progress: 0, attempt: 1, stage: 'hashing', createdAt: 1000, updatedAt: 1100, startedAt: 1100 });
    const b = await store.update(id, { progress: 33.333 }, 1200);
    expect(b).toMatchObject({ seq: 3, state: 'active', progress: 33.3, stage: 'hashing', updatedAt: 1200 });
    expect((await store.update(id, { progress: 150 }))!.progress).toBe(100);
    expect((await store.update(id, { progress: -5 }))!.progress).toBe(0);
    const e = await store.update(id, { error: 'boom', stage: null });
    expect(e).toMatchObject({ seq: 6, error: 'boom' });
    expect(e!.stage).toBeUndefined();
    const cleared = await store.update(id, { error: null });
    expect(cleared!.seq).toBe(7);
    expect(cleared!.error).toBeUndefined();
    // Concurrent updates each get their own seq.
    const many = await Promise.all(Array.from({ length: 20 }, (_, i) => store.update(id, { progress: i })));
    expect(many.map((u) => u!.seq).sort((x, y) => x - y)).toEqual(Array.from({ length: 20 }, (_, i) => 8 + i));
    expect((await store.get(id))!.seq).toBe(27);
    // Every update renews the retention (inside the same script).
    await redis.persist(keys.snapshot(id));
    await store.update(id, { progress: 50 });
    expect(await redis.ttl(keys.snapshot(id))).toBeGreaterThan(590);
  });

  it('after a terminal update every update returns undefined and changes nothing', async () => {
    const id = newId();
    await store.create(id, 'pipeline', undefined);
    await store.update(id, { state: 'active', attempt: 1, startedAt: 5 });
    const done = await store.update(id, { state: 'completed', progress: 100, result: { items: 2, checksum: 'ab' } }, 9000);
    expect(done).toMatchObject({ seq: 3, state: 'completed', progress: 100, result: { items: 2, checksum: 'ab' }, finishedAt: 9000 });
    expect(await store.update(id, { progress: 50 })).toBeUndefined();
    expect(await store.update(id, { state: 'active' })).toBeUndefined();
    expect(await store.update(id, { state: 'cancelled' })).toBeUndefined();
    expect(await store.get(id)).toEqual(done);
    for (const terminal of ['failed', 'cancelled'] as const) {
      const other = newId();
      await store.create(other, 'hash', undefined);
      expect(await store.update(other, { state: terminal })).toMatchObject({ state: terminal, seq: 2 });
      expect(await store.update(other, { progress: 1 })).toBeUndefined();
    }
  });

  it('runs its scripts by SHA, and sends them again when Redis lost them (SCRIPT FLUSH, a restart)', async () => {
    const id = newId();
    await store.create(id, 'hash', undefined);
    await redis.script('FLUSH');
    expect(await store.update(id, { state: 'active' })).toMatchObject({ state: 'active', seq: 2 });
    const before = Number(/calls=(\d+)/.exec((await redis.info('commandstats')).split('\n').find((l) => l.startsWith('cmdstat_eval:')) ?? 'calls=0')![1]);
    expect(await store.update(id, { progress: 5 })).toMatchObject({ seq: 3, progress: 5 });
    const after = Number(/calls=(\d+)/.exec((await redis.info('commandstats')).split('\n').find((l) => l.startsWith('cmdstat_eval:')) ?? 'calls=0')![1]);
    expect(after).toBe(before); // loaded again by the first EVAL: EVALSHA from then on
  });

  it('routes: created with the enqueuer\'s node, added by watch (once, the latest last; past MAX_ROUTES the overflow marker), read with every update', async () => {
    const id = newId();
    await store.create(id, 'hash', undefined, { route: 'node-A' });
    const active = await store.update(id, { state: 'active' });
    expect(routesOf(active!)).toEqual(['node-A']);
    // The watch answers the snapshot as it was, and every later update names the new node too.
    expect(await store.watch(id, 'node-B')).toMatchObject({ snapshot: { jobId: id, state: 'active', seq: 2 }, full: false });
    await store.watch(id, 'node-B');
    expect(routesOf((await store.update(id, { progress: 10 }))!)).toEqual(['node-A', 'node-B']);
    await store.watch(id, 'node-A'); // seen again: moves last
    expect(routesOf((await store.update(id, { progress: 20 }))!)).toEqual(['node-B', 'node-A']);
    // Up to MAX_ROUTES nodes are listed; the next is refused (`full`: it joins through the group's
    // channel) and the record gets the overflow marker, so publishers send there too. Nobody listed is dropped.
    const more = MAX_ROUTES - 2;
    for (let i = 0; i < more; i++) expect((await store.watch(id, `n${i}`))!.full).toBe(false);
    expect((await store.watch(id, 'one-too-many'))!.full).toBe(true);
    expect((await store.watch(id, 'and-another'))!.full).toBe(true);
    expect((await store.watch(id, 'node-A'))!.full).toBe(false); // listed already
    const updated = (await store.update(id, { progress: 30 }))!;
    const routes = routesOf(updated)!;
    expect(routes).toEqual([OVERFLOW, 'node-B', ...Array.from({ length: more }, (_, i) => `n${i}`), 'node-A']);
    // The routes never reach clients: not a field of the snapshot an update answers.
    expect(JSON.stringify(updated)).not.toContain('node-B');
    // A job whose watch ended is answered without registering; an unknown one is not created.
    await store.update(id, { state: 'completed' });
    const before = await redis.hget(keys.snapshot(id), '_w');
    expect(await store.watch(id, 'late')).toMatchObject({ snapshot: { state: 'completed' }, full: false });
    expect(await redis.hget(keys.snapshot(id), '_w')).toBe(before);
    const unknown = newId();
    expect(await store.watch(unknown, 'node-A')).toBeUndefined();
    expect(await redis.exists(keys.snapshot(unknown))).toBe(0);
    // A job without routes (watched through the group channel, or enqueued without watching).
    const plain = newId();
    await store.create(plain, 'hash', undefined);
    expect(routesOf((await store.update(plain, { state: 'active' }))!)).toBeUndefined();
    // Route ids are stored space-separated: one with white space is refused.
    await expect(store.watch(plain, 'a b')).rejects.toMatchObject({ code: 'SB_CONFIG_INVALID' });
    // A reopened (retried) job's snapshot carries the routes too.
    const failed = newId();
    await store.create(failed, 'hash', undefined, { route: 'node-C' });
    await store.update(failed, { state: 'failed', error: 'x' });
    const reopened = await store.reopen(failed);
    expect(reopened && 'snapshot' in reopened && routesOf(reopened.snapshot)).toEqual(['node-C']);
  });

  it('update of an unknown job returns undefined and creates nothing', async () => {
    const id = newId();
    expect(await store.update(id, { state: 'active' })).toBeUndefined();
    expect(await redis.exists(keys.snapshot(id))).toBe(0);
    expect(await store.get(id)).toBeUndefined();
  });

  it('requestCancel: undefined for unknown jobs; marks live jobs; leaves ended jobs unmarked', async () => {
    expect(await store.requestCancel(newId())).toBeUndefined();
    const queued = newId();
    await store.create(queued, 'hash', undefined);
    expect(await store.isCancelRequested(queued)).toBe(false);
    expect(await store.requestCancel(queued)).toBe('queued');
    expect(await store.isCancelRequested(queued)).toBe(true);
    const before = await store.get(queued);
    expect(before!.seq).toBe(1); // a request is not an update
    expect(before).not.toHaveProperty('cancelRequested');

    const active = newId();
    await store.create(active, 'hash', undefined);
    await store.update(active, { state: 'active' });
    expect(await store.requestCancel(active)).toBe('active');
    expect(await store.isCancelRequested(active)).toBe(true);

    const ended = newId();
    await store.create(ended, 'hash', undefined);
    await store.update(ended, { state: 'completed', result: 'ff' });
    expect(await store.requestCancel(ended)).toBe('completed');
    expect(await store.isCancelRequested(ended)).toBe(false);
  });
});

describe('parseSnapshot', () => {
  it('is undefined for an empty or incomplete hash', () => {
    expect(parseSnapshot({})).toBeUndefined();
    expect(parseSnapshot({ jobId: 'x' })).toBeUndefined();
    expect(parseSnapshot({ state: 'queued' })).toBeUndefined();
  });

  it('converts numbers, parses the JSON result and omits absent or empty optional fields', () => {
    expect(parseSnapshot({ jobId: 'j', name: 'hash', seq: '4', state: 'active', createdAt: '10', updatedAt: '20', stage: '', error: '' })).toEqual({
      jobId: 'j',
      name: 'hash',
      seq: 4,
      state: 'active',
      progress: 0,
      attempt: 1,
      createdAt: 10,
      updatedAt: 20,
    });
    const full = parseSnapshot({
      jobId: 'j',
      name: 'pipeline',
      seq: '9',
      state: 'failed',
      progress: '42.5',
      attempt: '3',
      stage: 'fetch',
      error: 'nope',
      owner: 'ana',
      result: '{"items":1,"checksum":"00"}',
      createdAt: '1',
      updatedAt: '2',
      startedAt: '3',
      finishedAt: '4',
      cancelRequested: '1',
    });
    expect(full).toEqual({
      jobId: 'j',
      name: 'pipeline',
      seq: 9,
      state: 'failed',
      progress: 42.5,
      attempt: 3,
      stage: 'fetch',
      error: 'nope',
      owner: 'ana',
      result: { items: 1, checksum: '00' },
      createdAt: 1,
      updatedAt: 2,
      startedAt: 3,
      finishedAt: 4,
    });
    expect(parseSnapshot({ jobId: 'j', name: 'hash', seq: '2', state: 'completed', result: '"abc"', createdAt: '1', updatedAt: '1' })!.result).toBe('abc');
  });
});
