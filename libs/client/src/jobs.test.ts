import { describe, expect, it, vi } from 'vitest';
import type { JobUpdate } from '@switchboard/contracts';
import { FakeConnection, settle } from './fake-connection.test-support.js';
import { JobsConnection } from './jobs.js';

function update(jobId: string, seq: number, state: JobUpdate['state'] = 'active', progress = seq * 10): JobUpdate {
  return { jobId, name: 'hash', seq, state, progress, attempt: 1, createdAt: 1, updatedAt: 1 + seq };
}

/** A fake jobs hub: `snapshots` answers `watch`; an id not in it is refused like the real hub does. */
function setup(options: ConstructorParameters<typeof JobsConnection>[1] = { reconnectDelays: [0] }) {
  const fake = new FakeConnection();
  const snapshots = new Map<string, JobUpdate>();
  fake.server = (method, args) => {
    const id = args[0] as string;
    if (method === 'watch') {
      const s = snapshots.get(id);
      if (!s) throw new Error(`An unexpected error occurred invoking 'watch' on the server. HubException: SB_JOB_NOT_FOUND: No job ${id}.`);
      return s;
    }
    if (method === 'enqueue') return { jobId: 'j1' };
    if (method === 'cancel') return true;
    return undefined;
  };
  const jobs = new JobsConnection({ connection: fake }, options);
  const seen: string[] = [];
  jobs.onJobUpdated((u) => seen.push(`${u.jobId}:${u.seq}:${u.state}`));
  return { fake, snapshots, jobs, seen };
}

describe('JobsConnection', () => {
  it('passes the snapshot and live updates through the seq filter (stale and duplicate dropped)', async () => {
    const { fake, snapshots, jobs, seen } = setup();
    await jobs.start();
    snapshots.set('a', update('a', 3));
    const snap = await jobs.watch('a');
    expect(snap.seq).toBe(3);
    fake.push('jobUpdated', update('a', 2)); // older than the snapshot
    fake.push('jobUpdated', update('a', 3)); // the snapshot's state, live
    fake.push('jobUpdated', update('a', 4));
    fake.push('jobUpdated', update('a', 4)); // duplicate
    fake.push('jobUpdated', update('a', 5, 'completed', 100));
    expect(seen).toEqual(['a:3:active', 'a:4:active', 'a:5:completed']);
    expect(jobs.highestSeq('a')).toBe(5);
  });

  it('a live update that beats the snapshot wins; the older snapshot is dropped', async () => {
    const { fake, snapshots, jobs, seen } = setup();
    await jobs.start();
    snapshots.set('a', update('a', 2));
    fake.server = async (method) => {
      // The hub joins the group first, then reads: a live update can arrive before the answer.
      fake.push('jobUpdated', update('a', 3));
      return method === 'watch' ? snapshots.get('a') : undefined;
    };
    await jobs.watch('a');
    expect(seen).toEqual(['a:3:active']);
  });

  it('ignores updates of jobs it does not watch, and of jobs after unwatch', async () => {
    const { fake, snapshots, jobs, seen } = setup();
    await jobs.start();
    fake.push('jobUpdated', update('x', 1));
    snapshots.set('a', update('a', 1));
    await jobs.watch('a');
    await jobs.unwatch('a');
    fake.push('jobUpdated', update('a', 2));
    expect(seen).toEqual(['a:1:active']);
    expect(fake.callsOf('unwatch')).toEqual([['unwatch', 'a']]);
    expect(jobs.watching()).toEqual([]);
  });

  it('after a reconnect re-watches every job that has not ended, and shows a final state reached while down', async () => {
    const { fake, snapshots, jobs, seen } = setup();
    await jobs.start();
    snapshots.set('running', update('running', 2));
    snapshots.set('done', update('done', 4, 'completed', 100));
    await jobs.watch('running');
    await jobs.watch('done');
    fake.drop();
    expect(jobs.state).toBe('reconnecting');
    // While down: the job completes; its live update is lost with the connection.
    snapshots.set('running', update('running', 6, 'completed', 100));
    fake.calls.length = 0;
    fake.restore();
    await settle();
    expect(fake.calls).toEqual([['watch', 'running']]); // the ended job is not asked again
    expect(seen).toEqual(['running:2:active', 'done:4:completed', 'running:6:completed']);
    // A late duplicate of the live terminal update changes nothing.
    fake.push('jobUpdated', update('running', 6, 'completed', 100));
    expect(seen).toHaveLength(3);
  });

  it('re-watches after every reconnect, not only the first', async () => {
    const { fake, snapshots, jobs } = setup();
    await jobs.start();
    snapshots.set('a', update('a', 1));
    await jobs.watch('a');
    for (let i = 0; i < 3; i++) {
      fake.drop();
      fake.restore();
      await settle();
    }
    expect(fake.callsOf('watch')).toHaveLength(4);
  });

  it('a watch asked for while down is kept and made once the connection is up', async () => {
    const { fake, snapshots, jobs, seen } = setup({ persistent: true, reconnectDelays: [5] });
    fake.startOutcomes.push(new Error('refused'));
    snapshots.set('a', update('a', 1));
    const started = jobs.start();
    await expect(jobs.watch('a')).rejects.toThrow(/not in the 'Connected' State/);
    expect(jobs.watching()).toEqual(['a']);
    await started;
    await settle();
    expect(seen).toEqual(['a:1:active']);
    // And one asked for between a drop and the reconnect:
    fake.drop();
    snapshots.set('b', update('b', 1));
    await expect(jobs.watch('b')).rejects.toThrow();
    fake.restore();
    await settle();
    expect(seen).toEqual(['a:1:active', 'b:1:active']);
  });

  it('a re-watch the hub refuses (expired id) drops the job and reports it', async () => {
    const { fake, snapshots, jobs } = setup();
    await jobs.start();
    snapshots.set('a', update('a', 1));
    await jobs.watch('a');
    const errors = vi.fn();
    jobs.onWatchError(errors);
    snapshots.delete('a');
    fake.drop();
    fake.restore();
    await settle();
    expect(errors).toHaveBeenCalledTimes(1);
    expect(errors.mock.calls[0]![0]).toBe('a');
    expect(String(errors.mock.calls[0]![1])).toMatch(/SB_JOB_NOT_FOUND/);
    expect(jobs.watching()).toEqual([]);
  });

  it('a re-watch lost to another drop is retried on the next reconnect', async () => {
    const { fake, snapshots, jobs, seen } = setup();
    await jobs.start();
    snapshots.set('a', update('a', 1));
    await jobs.watch('a');
    fake.drop();
    const answer = fake.server;
    fake.server = () => {
      fake.drop(); // the connection goes down while the re-watch is in flight
      throw new Error('Invocation canceled due to the underlying connection being closed.');
    };
    fake.restore();
    await settle();
    expect(jobs.watching()).toEqual(['a']);
    fake.server = answer;
    snapshots.set('a', update('a', 2, 'completed', 100));
    fake.restore();
    await settle();
    expect(seen).toEqual(['a:1:active', 'a:2:completed']);
  });

  it('a watch the hub refuses rejects and is not kept', async () => {
    const { jobs } = setup();
    await jobs.start();
    await expect(jobs.watch('nope')).rejects.toThrow(/SB_JOB_NOT_FOUND/);
    expect(jobs.watching()).toEqual([]);
  });

  it('enqueue and cancel invoke the hub with typed arguments', async () => {
    const { fake, jobs } = setup();
    await jobs.start();
    expect(await jobs.enqueue('hash', { rounds: 10 })).toEqual({ jobId: 'j1' });
    expect(await jobs.enqueue('pipeline', { items: 5, failAtStage: 'publish' })).toEqual({ jobId: 'j1' });
    expect(await jobs.cancel('j1')).toBe(true);
    expect(fake.calls).toEqual([
      ['enqueue', 'hash', { rounds: 10 }],
      ['enqueue', 'pipeline', { items: 5, failAtStage: 'publish' }],
      ['cancel', 'j1'],
    ]);
  });

  it('unwatch while down does not call the hub (the group went with the connection)', async () => {
    const { fake, snapshots, jobs } = setup();
    await jobs.start();
    snapshots.set('a', update('a', 1));
    await jobs.watch('a');
    fake.drop();
    await jobs.unwatch('a');
    fake.restore();
    await settle();
    expect(fake.callsOf('unwatch')).toEqual([]);
    expect(fake.callsOf('watch')).toHaveLength(1);
  });

  it('tells handlers whether an update was pushed (live) or is the snapshot of a watch or re-watch', async () => {
    const { fake, snapshots, jobs } = setup();
    const kinds: string[] = [];
    jobs.onJobUpdated((u, info) => kinds.push(`${u.seq}:${info.live ? 'live' : 'snapshot'}`));
    await jobs.start();
    snapshots.set('a', update('a', 1));
    await jobs.watch('a');
    fake.push('jobUpdated', update('a', 2));
    await settle();
    fake.drop();
    snapshots.set('a', update('a', 3));
    fake.restore();
    await settle();
    expect(kinds).toEqual(['1:snapshot', '2:live', '3:snapshot']);
  });
});
