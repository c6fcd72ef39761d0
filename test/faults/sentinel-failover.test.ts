import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { startHubNode, startWorkerProcess } from '../ops/support.js';
import type { StartedProcess } from '../support/processes.js';
import { uniquePrefix } from '../support/redis.js';
import { startRedisSentinel, type PrivateSentinel } from '../support/sentinel.js';
import { countOutcomes, enqueue, isRunning, startAll, waitFor, watcher, type Watcher } from './support.js';

// Outages tell the truth, with Redis Sentinel: a primary, one replica and 3 sentinels on loopback;
// 2 hub nodes and 2 workers reach Redis only through REDIS_SENTINELS. N pipeline jobs, each
// watched by two `connectJobs` clients (one per hub node); the primary is SIGKILLed mid-run.
// Every process must follow the failover by itself: every watcher ends with exactly one terminal
// update per job (`lost` counted apart: writes the old primary acknowledged but had not replicated
// are gone after a failover, and the jobs layer reports such a job `lost`), and no process exits.
// A job that was active may run again (its lock lapsed during the failover); it still ends once.
const N = Number(process.env['CHAOS_JOBS'] || 100);

interface Deployment {
  sentinel: PrivateSentinel;
  hubs: StartedProcess[];
  workers: StartedProcess[];
  watchers: Watcher[];
  stop(): Promise<void>;
}

async function deploy(): Promise<Deployment> {
  const sentinel = await startRedisSentinel({ downAfterMs: 1000, failoverTimeoutMs: 5000 });
  const env = {
    REDIS_SENTINELS: sentinel.sentinelsEnv,
    REDIS_SENTINEL_NAME: sentinel.name,
    // Nothing else from the test's own environment may pick the Redis.
    REDIS_URL: '',
    REDIS_CLUSTER_NODES: '',
    REDIS_PREFIX: uniquePrefix('sentinel'),
    HUB_SECRET: randomBytes(32).toString('base64'),
    JOB_LOCK_MS: '3000',
    JOB_STALLED_INTERVAL_MS: '1000',
  };
  let started: StartedProcess[];
  try {
    started = await startAll([startHubNode(env), startHubNode(env), startWorkerProcess({ ...env, WORKER_CONCURRENCY: '50' }), startWorkerProcess({ ...env, WORKER_CONCURRENCY: '50' })]);
  } catch (err) {
    await sentinel.stop();
    throw err;
  }
  const d: Deployment = {
    sentinel,
    hubs: started.slice(0, 2),
    workers: started.slice(2),
    watchers: [],
    async stop() {
      await Promise.allSettled(d.watchers.map((w) => w.conn.stop()));
      await Promise.allSettled([...d.hubs, ...d.workers].map((p) => p.stop('SIGKILL')));
      await sentinel.stop();
    },
  };
  return d;
}

describe(`Redis Sentinel failover (${N} jobs × 2 watchers, real processes)`, () => {
  let d: Deployment | undefined;
  afterEach(async () => {
    await d?.stop();
    d = undefined;
  });

  it('the primary SIGKILLed mid-run: every process follows the failover; every job ends exactly once at every watcher', async () => {
    d = await deploy();
    const ids = await enqueue(d.hubs[0]!.url, N, { items: 5, delayMs: 1500 });
    d.watchers = await Promise.all(d.hubs.map((h) => watcher(h.url)));
    // Per job: the runs watcher 0 saw (distinct startedAt), and the first completion after the kill.
    const runs = new Map<string, Set<number>>();
    let killedAt = Infinity;
    let firstCompletionAfterKill: number | undefined;
    d.watchers[0]!.conn.onJobUpdated((u) => {
      if (u.startedAt !== undefined) runs.set(u.jobId, (runs.get(u.jobId) ?? new Set()).add(u.startedAt));
      // Written by a worker after the kill (updatedAt is the writer's clock, the same machine).
      if (u.state === 'completed' && u.updatedAt >= killedAt && firstCompletionAfterKill === undefined) firstCompletionAfterKill = Date.now();
    });
    await Promise.all(d.watchers.map((w) => Promise.all(ids.map((id) => w.conn.watch(id)))));

    // Mid-run: once a good part of the jobs is running and none has finished yet.
    await waitFor('jobs to be running', () => runs.size >= Math.min(20, N), 15_000, 20);
    expect(countOutcomes(d.watchers, ids).terminal, 'no job may end before the kill (raise delayMs)').toBe(0);
    const killed = await d.sentinel.killPrimary();
    killedAt = killed.at;
    const promoted = await d.sentinel.waitForFailover(killed.port, 30_000);
    const failoverMs = Date.now() - killed.at;

    await waitFor('every watcher to see every job end', () => countOutcomes(d!.watchers, ids).waiting === 0, 90_000, 100).catch(async (err: Error) => {
      // Say which jobs are stuck and where their records are, for the next time this happens.
      const waiting = ids.filter((id) => d!.watchers.some((w) => !w.final.has(id)));
      const snapshots = await Promise.all(waiting.slice(0, 5).map((id) => fetch(`${d!.hubs[0]!.url}/api/jobs/${id}`).then((r) => r.text(), (e: Error) => e.message)));
      throw new Error(`${err.message}; ${waiting.length} job(s) not ended at some watcher, first records: ${snapshots.join(' | ')}`);
    });
    const c = countOutcomes(d.watchers, ids);
    const states = new Map<string, number>();
    for (const w of d.watchers) for (const u of w.final.values()) states.set(u.state, (states.get(u.state) ?? 0) + 1);
    const ranAgain = [...runs.values()].filter((s) => s.size > 1).length;
    const duplicates = d.watchers.flatMap((w) => [...w.terminalCount.values()].filter((n) => n !== 1)).length;
    const recoverMs = firstCompletionAfterKill === undefined ? undefined : firstCompletionAfterKill - killed.at;
    console.log(
      `[faults] Sentinel failover (primary :${killed.port} SIGKILLed, :${promoted} promoted after ${failoverMs} ms): ${N} jobs × 2 watchers: ` +
        `tried ${c.tried}, terminal ${c.terminal}, lost ${c.lost}, still waiting ${c.waiting}; ` +
        `states ${[...states].map(([s, n]) => `${s} ${n}`).join(', ')}; ran again ${ranAgain}; terminal seen twice ${duplicates}; ` +
        `time to recover (kill → first job completed after it) ${recoverMs ?? 'n/a'} ms`,
    );

    expect(c.waiting).toBe(0);
    expect(c.terminal).toBe(c.tried);
    expect(duplicates).toBe(0);
    // The kill must not fail jobs: each either completed or (its record gone with the unreplicated writes) ended lost.
    expect([...states.keys()].filter((s) => s !== 'completed' && s !== 'lost')).toEqual([]);
    expect(recoverMs).toBeDefined();
    for (const p of [...d.hubs, ...d.workers]) expect(isRunning(p), `pid ${p.child.pid} exited:\n${p.output()}`).toBe(true);
  }, 180_000);
});
