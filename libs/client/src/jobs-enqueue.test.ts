import { describe, expect, it } from 'vitest';
import type { JobUpdate } from '@switchboard/contracts';
import { FakeConnection } from './fake-connection.test-support.js';
import { JobsConnection } from './jobs.js';

function update(jobId: string, seq: number, state: JobUpdate['state']): JobUpdate {
  return { jobId, name: 'report', seq, state, progress: 0, attempt: 1, createdAt: 1, updatedAt: 1 + seq };
}

describe('JobsConnection.enqueue with { watch: true }', () => {
  it('watches in the same round trip; updates that beat the answer are delivered after the snapshot, in seq order', async () => {
    const fake = new FakeConnection();
    fake.server = (method, args) => {
      if (method !== 'enqueue') return undefined;
      expect(args[2]).toEqual({ watch: true, priority: 2 });
      // The worker was quick: the job's group already got 'active' and 'completed' before the answer.
      fake.push('jobUpdated', update('j9', 2, 'active'));
      fake.push('jobUpdated', update('j9', 3, 'completed'));
      fake.push('jobUpdated', update('other', 5, 'active')); // not ours: ignored
      return { jobId: 'j9', snapshot: update('j9', 1, 'queued') };
    };
    const jobs = new JobsConnection({ connection: fake }, { reconnectDelays: [0] });
    const seen: string[] = [];
    jobs.onJobUpdated((u, info) => seen.push(`${u.jobId}:${u.seq}:${u.state}:${info.live ? 'live' : 'snapshot'}`));
    await jobs.start();
    const result = await jobs.enqueue('report', { month: '2026-11' }, { watch: true, priority: 2 });
    expect(result.jobId).toBe('j9');
    expect(seen).toEqual(['j9:1:queued:snapshot', 'j9:2:active:live', 'j9:3:completed:live']);
    expect(jobs.watching()).toEqual(['j9']);
    expect(fake.callsOf('watch')).toEqual([]); // no second round trip
  });

  it('without watch it only enqueues, and passes options through', async () => {
    const fake = new FakeConnection();
    fake.server = () => ({ jobId: 'a1' });
    const jobs = new JobsConnection({ connection: fake }, { reconnectDelays: [0] });
    await jobs.start();
    expect(await jobs.enqueue('x', {}, { delayMs: 5 })).toEqual({ jobId: 'a1' });
    expect(await jobs.enqueue('x', {})).toEqual({ jobId: 'a1' });
    expect(fake.calls).toEqual([['enqueue', 'x', {}, { delayMs: 5 }], ['enqueue', 'x', {}]]);
    expect(jobs.watching()).toEqual([]);
  });
});
