import { afterEach, describe, expect, it, vi } from 'vitest';
import type { JobUpdate } from '@switchboard/contracts';
import { FakeConnection, settle } from './fake-connection.test-support.js';
import { JobsConnection } from './jobs.js';
import { retryDelay, Slots } from './watch-slots.js';

function update(jobId: string, seq: number, state: JobUpdate['state'] = 'active'): JobUpdate {
  return { jobId, name: 'report', seq, state, progress: 0, attempt: 1, createdAt: 1, updatedAt: 1 + seq };
}
const hubError = (text: string) => new Error(`An unexpected error occurred invoking 'watch' on the server. HubException: ${text}`);

/**
 * A fake jobs hub that, like the real one, answers one invocation at a time (each takes `ms`) and
 * refuses those past `pendingLimit` in flight with SB_INVOCATION_LIMIT.
 */
function limitedHub(snapshots: Map<string, JobUpdate>, pendingLimit = 100, ms = 1) {
  const fake = new FakeConnection();
  let pending = 0;
  let chain = Promise.resolve();
  const stats = { maxPending: 0, refused: 0 };
  fake.server = (method, args) => {
    if (method !== 'watch') return undefined;
    if (pending >= pendingLimit) {
      stats.refused++;
      throw hubError('SB_INVOCATION_LIMIT: this connection has 100 invocations pending.');
    }
    pending++;
    stats.maxPending = Math.max(stats.maxPending, pending);
    const answer = chain.then(async () => {
      await new Promise((r) => setTimeout(r, ms));
      pending--;
      const s = snapshots.get(args[0] as string);
      if (!s) throw hubError(`SB_JOB_NOT_FOUND: Unknown job id '${String(args[0])}'.`);
      return s;
    });
    chain = answer.then(
      () => {},
      () => {},
    );
    return answer;
  };
  return { fake, stats };
}

afterEach(() => {
  vi.useRealTimers();
});

describe('JobsConnection: many watches, transient refusals, lost jobs', () => {
  it('watches 1,000 jobs at once through a few slots: none refused, none dropped', async () => {
    const snapshots = new Map<string, JobUpdate>();
    for (let i = 0; i < 1000; i++) snapshots.set(`j${i}`, update(`j${i}`, 1));
    const { fake, stats } = limitedHub(snapshots, 100, 0);
    const jobs = new JobsConnection({ connection: fake }, { reconnectDelays: [0] });
    await jobs.start();
    const results = await Promise.all([...snapshots.keys()].map((id) => jobs.watch(id)));
    expect(results).toHaveLength(1000);
    expect(jobs.watching()).toHaveLength(1000);
    expect(stats.refused).toBe(0);
    expect(stats.maxPending).toBeLessThanOrEqual(16);

    // Reconnect: all 1,000 are watched again, still within the limit.
    fake.drop();
    fake.calls.length = 0;
    fake.restore();
    await vi.waitFor(() => expect(fake.callsOf('watch')).toHaveLength(1000), { timeout: 10_000 });
    expect(stats.refused).toBe(0);
    expect(jobs.watching()).toHaveLength(1000);
  });

  it('retries SB_INVOCATION_LIMIT and Redis outages with backoff; forgets a job only on a final answer', async () => {
    const snapshots = new Map([['a', update('a', 1)]]);
    const fake = new FakeConnection();
    const answers = [hubError('SB_INVOCATION_LIMIT: too many.'), hubError('SB_BACKPLANE_UNAVAILABLE: Redis did not answer within 2000 ms.')];
    fake.server = (method, args) => {
      const next = answers.shift();
      if (next) throw next;
      return method === 'watch' ? snapshots.get(args[0] as string) : undefined;
    };
    const jobs = new JobsConnection({ connection: fake }, { reconnectDelays: [0] });
    await jobs.start();
    expect((await jobs.watch('a')).seq).toBe(1);
    expect(fake.callsOf('watch')).toHaveLength(3);
    // A final answer: rejected and not kept.
    fake.server = () => {
      throw hubError("SB_JOB_FORBIDDEN: Job 'b' belongs to another user.");
    };
    await expect(jobs.watch('b')).rejects.toThrow(/SB_JOB_FORBIDDEN/);
    expect(jobs.watching()).toEqual(['a']);
  });

  it('a watch that keeps meeting transient refusals rejects after its budget, stays watched, and goes through in the background', async () => {
    vi.useFakeTimers();
    const fake = new FakeConnection();
    let down = true;
    fake.server = () => {
      if (down) throw hubError('SB_BACKPLANE_UNAVAILABLE: Redis did not answer within 2000 ms.');
      return update('a', 4);
    };
    const jobs = new JobsConnection({ connection: fake }, { reconnectDelays: [0] });
    const seen: string[] = [];
    jobs.onJobUpdated((u) => seen.push(`${u.jobId}:${u.seq}`));
    await jobs.start();
    const watching = jobs.watch('a');
    const outcome = watching.then(
      () => 'resolved',
      (e: Error) => e.message,
    );
    await vi.advanceTimersByTimeAsync(11_000);
    expect(await outcome).toMatch(/SB_BACKPLANE_UNAVAILABLE/);
    expect(jobs.watching()).toEqual(['a']);
    down = false;
    await vi.advanceTimersByTimeAsync(4_000);
    expect(seen).toEqual(['a:4']);
    await jobs.stop();
  });

  it('a watched job whose record is gone gets a terminal lost update with the reason, and the error handler is told', async () => {
    const snapshots = new Map([['a', update('a', 3)], ['b', update('b', 2)]]);
    const { fake } = limitedHub(snapshots);
    const jobs = new JobsConnection({ connection: fake }, { reconnectDelays: [0] });
    const seen: JobUpdate[] = [];
    jobs.onJobUpdated((u) => seen.push(u));
    const errors: string[] = [];
    jobs.onWatchError((id, e) => errors.push(`${id}: ${e.message}`));
    await jobs.start();
    await jobs.watch('a');
    await jobs.watch('b');
    // Redis restarted empty while the connection was down.
    snapshots.clear();
    fake.drop();
    fake.restore();
    await vi.waitFor(() => expect(seen.filter((u) => u.state === 'lost')).toHaveLength(2));
    const lost = seen.find((u) => u.jobId === 'a' && u.state === 'lost')!;
    expect(lost).toMatchObject({ name: 'report', seq: Number.MAX_SAFE_INTEGER });
    expect(lost.error).toMatch(/^The job's record is gone from Redis \(SB_JOB_NOT_FOUND: .*\): Redis lost its data/);
    expect(errors.sort()).toEqual([expect.stringMatching(/^a: .*SB_JOB_NOT_FOUND/), expect.stringMatching(/^b: .*SB_JOB_NOT_FOUND/)]);
    expect(jobs.watching()).toEqual([]);
    // A late live update of a lost job changes nothing.
    fake.push('jobUpdated', update('a', 9, 'completed'));
    await settle();
    expect(seen.filter((u) => u.jobId === 'a').map((u) => u.state)).toEqual(['active', 'lost']);
  });
});

describe('Slots and retryDelay', () => {
  it('runs at most `limit` tasks at once, in arrival order', async () => {
    const slots = new Slots(2);
    let running = 0;
    let most = 0;
    const order: number[] = [];
    await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        slots.run(async () => {
          running++;
          most = Math.max(most, running);
          order.push(i);
          await settle(1);
          running--;
        }),
      ),
    );
    expect(most).toBe(2);
    expect(order).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    await expect(slots.run(async () => Promise.reject(new Error('x')))).rejects.toThrow('x');
    expect(await slots.run(async () => 7)).toBe(7); // a failed task frees its slot
  });

  it('backs off from about 100 ms to about 2 s', () => {
    expect(retryDelay(0, () => 0.5)).toBe(100);
    expect(retryDelay(3, () => 0.5)).toBe(800);
    expect(retryDelay(20, () => 0.5)).toBe(2000);
    expect(retryDelay(20, () => 0)).toBe(1600);
    expect(retryDelay(20, () => 1)).toBe(2400);
  });
});
