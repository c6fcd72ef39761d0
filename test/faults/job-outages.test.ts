import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { api } from '../jobs/support.js';
import { startHubNode, startWorkerProcess } from '../ops/support.js';
import type { StartedProcess } from '../support/processes.js';
import { freePort, startRedis, uniquePrefix, type PrivateRedis } from '../support/redis.js';
import { connect } from '../support/signalr.js';
import { countOutcomes, enqueue, startAll, timed, waitFor, watcher, type Watcher } from './support.js';

// Outages tell the truth: N jobs, each watched by two `connectJobs` clients (one per hub node),
// through a Redis freeze, a restart from the append-only file, a restart with no data, and a hub
// node killed under a client watching 1,000 jobs. Every watcher ends with a terminal state for
// every job (`lost` where Redis lost the job), and every call made during an outage is answered
// within the bound. CHAOS_JOBS raises N (`npm run chaos`).
const N = Number(process.env['CHAOS_JOBS'] || 100);
/** The hub nodes' REDIS_TIMEOUT_MS default, plus slack for a busy machine. */
const BOUND_MS = 2000 + 1500;

interface Deployment {
  redis: PrivateRedis;
  /** What every process of the deployment shares: Redis, prefix, secret. */
  env: Record<string, string>;
  hubs: StartedProcess[];
  workers: StartedProcess[];
  watchers: Watcher[];
  stop(): Promise<void>;
}

async function deploy(options: { appendonly: boolean; workers: number }): Promise<Deployment> {
  const redis = await startRedis({ appendonly: options.appendonly });
  const env = { REDIS_URL: redis.url, REDIS_PREFIX: uniquePrefix('outage'), HUB_SECRET: randomBytes(32).toString('base64'), JOB_LOCK_MS: '3000', JOB_STALLED_INTERVAL_MS: '1000' };
  const started = await startAll([
    startHubNode(env),
    startHubNode(env),
    ...Array.from({ length: options.workers }, () => startWorkerProcess({ ...env, POOL_SIZE: '1', WORKER_CONCURRENCY: '50' })),
  ]);
  const d: Deployment = {
    redis,
    env,
    hubs: started.slice(0, 2),
    workers: started.slice(2),
    watchers: [],
    async stop() {
      await Promise.allSettled(d.watchers.map((w) => w.conn.stop()));
      await Promise.allSettled([...d.hubs, ...d.workers].map((p) => p.stop('SIGKILL')));
      await redis.stop();
    },
  };
  return d;
}

/** Two watchers (one per hub node) watching every job. */
async function watchAll(d: Deployment, ids: string[]): Promise<void> {
  d.watchers = await Promise.all(d.hubs.map((h) => watcher(h.url)));
  await Promise.all(d.watchers.map((w) => Promise.all(ids.map((id) => w.conn.watch(id)))));
}

function counts(d: Deployment, ids: string[]) {
  return countOutcomes(d.watchers, ids);
}

/** Calls every Redis-backed path once, while Redis is out; each must answer within the bound with SB_BACKPLANE_UNAVAILABLE. */
async function callsDuringOutage(d: Deployment, someJob: string): Promise<{ label: string; ms: number; answer: string }[]> {
  const hub = await connect(`${d.hubs[0]!.url}/hubs/jobs`);
  try {
    const base = d.hubs[1]!.url;
    const rest = async (method: string, path: string, body?: string) => {
      const res = await api(base, method, path, body);
      return `${res.status} ${(res.body as { code?: string }).code}`;
    };
    const hubCall = async (method: string, ...args: unknown[]) => {
      try {
        await hub.invoke(method, ...args);
        return 'ok';
      } catch (err) {
        return /HubException: (SB_[A-Z_]+)/.exec((err as Error).message)?.[1] ?? (err as Error).message;
      }
    };
    const timedCall = async (label: string, call: () => Promise<string>) => {
      const r = await timed(call());
      return { label, ms: r.ms, answer: r.value ?? String(r.error) };
    };
    // REST calls side by side; hub calls one after another on one connection, as a client's
    // invocations run: a stuck one would hold up every later one.
    const restCalls = Promise.all([
      timedCall('REST POST /api/jobs', () => rest('POST', '/api/jobs', JSON.stringify({ name: 'pipeline', data: { items: 1 } }))),
      timedCall('REST GET /api/jobs/:id', () => rest('GET', `/api/jobs/${someJob}`)),
      timedCall('REST DELETE /api/jobs/:id', () => rest('DELETE', `/api/jobs/${someJob}`)),
    ]);
    const hubCalls: { label: string; ms: number; answer: string }[] = [];
    hubCalls.push(await timedCall('hub enqueue', () => hubCall('enqueue', 'pipeline', { items: 1 })));
    hubCalls.push(await timedCall('hub watch', () => hubCall('watch', someJob)));
    hubCalls.push(await timedCall('hub cancel', () => hubCall('cancel', someJob)));
    return [...(await restCalls), ...hubCalls];
  } finally {
    await hub.stop();
  }
}

function expectBoundedRefusals(calls: { label: string; ms: number; answer: string }[]): void {
  for (const c of calls) {
    expect(c.ms, c.label).toBeLessThan(BOUND_MS);
    expect(c.answer, c.label).toMatch(/^(503 SB_BACKPLANE_UNAVAILABLE|SB_BACKPLANE_UNAVAILABLE)$/);
  }
}

function report(label: string, c: ReturnType<typeof counts>, extra = ''): void {
  console.log(`[faults] ${label}: ${N} jobs × 2 watchers: tried ${c.tried}, terminal ${c.terminal}, lost ${c.lost}, still waiting ${c.waiting}${extra}`);
}

describe(`job outages (${N} jobs × 2 watchers, real processes)`, () => {
  let d: Deployment | undefined;
  afterEach(async () => {
    await d?.stop();
    d = undefined;
  });

  it('Redis frozen for at least 5 s: calls made meanwhile answer within the bound with SB_BACKPLANE_UNAVAILABLE; afterwards every job ends at every watcher', async () => {
    d = await deploy({ appendonly: false, workers: 2 });
    const ids = await enqueue(d.hubs[0]!.url, N, { items: 5, delayMs: 1500 });
    await watchAll(d, ids);
    d.redis.freeze();
    const frozenAt = Date.now();
    let calls;
    try {
      calls = await callsDuringOutage(d, ids[0]!);
      await new Promise((r) => setTimeout(r, Math.max(0, 5000 - (Date.now() - frozenAt))));
    } finally {
      d.redis.thaw();
    }
    expectBoundedRefusals(calls);
    await waitFor('every watcher to see every job end', () => counts(d!, ids).waiting === 0, 60_000, 100);
    const c = counts(d, ids);
    report('Redis frozen 5 s', c, `; calls during the outage ${calls.map((x) => `${x.label} ${x.ms} ms`).join(', ')}`);
    expect(c).toEqual({ tried: 2 * N, terminal: 2 * N, lost: 0, waiting: 0 });
  }, 120_000);

  it('Redis restarted from its append-only file mid-run: no terminal state lost; calls while it is down fail at once', async () => {
    d = await deploy({ appendonly: true, workers: 2 });
    const ids = await enqueue(d.hubs[0]!.url, N, { items: 5, delayMs: 1500 });
    await watchAll(d, ids);
    await d.redis.kill('SIGTERM'); // a restart: Redis writes its append-only file and exits
    const calls = await callsDuringOutage(d, ids[0]!);
    await d.redis.restart();
    expectBoundedRefusals(calls);
    await waitFor('every watcher to see every job end', () => counts(d!, ids).waiting === 0, 60_000, 100);
    const c = counts(d, ids);
    report('Redis restarted from AOF', c);
    expect(c).toEqual({ tried: 2 * N, terminal: 2 * N, lost: 0, waiting: 0 });
    // Logs stayed JSON lines through the outage: every Redis client has an error listener.
    for (const p of [...d.hubs, ...d.workers]) {
      const lines = p.output().split('\n').filter((l) => l.trim());
      expect(lines.filter((l) => /Unhandled error event/.test(l))).toEqual([]);
      expect(lines.filter((l) => !l.startsWith('{') && !/^(listening on|worker ready)/.test(l))).toEqual([]);
    }
  }, 120_000);

  it('Redis restarted empty: every watcher of an unfinished job gets `lost` with the reason; none waits forever', async () => {
    d = await deploy({ appendonly: false, workers: 2 });
    const ids = await enqueue(d.hubs[0]!.url, N, { items: 5, delayMs: 2000 });
    await watchAll(d, ids);
    await d.redis.restart({ empty: true });
    await waitFor('every watcher to see every job end', () => counts(d!, ids).waiting === 0, 30_000, 100);
    const c = counts(d, ids);
    report('Redis restarted empty', c);
    expect(c.waiting).toBe(0);
    expect(c.lost).toBeGreaterThan(0);
    const lost = [...d.watchers[0]!.final.values()].find((u) => u.state === 'lost')!;
    expect(lost).toMatchObject({ name: 'pipeline', seq: Number.MAX_SAFE_INTEGER });
    expect(lost.error).toMatch(/record is gone from Redis/);
  }, 120_000);

  it('a client watching 1,000 unfinished jobs whose hub node is killed reconnects and still watches all 1,000', async () => {
    d = await deploy({ appendonly: false, workers: 0 });
    // The node the client uses, on a port the test owns, so a replacement can take it over.
    const port = await freePort();
    const first = await startHubNode({ ...d.env, PORT: String(port) });
    d.hubs.push(first);
    const ids = await enqueue(d.hubs[0]!.url, 1000, { items: 1 });
    const w = await watcher(first.url);
    d.watchers.push(w);
    await Promise.all(ids.map((id) => w.conn.watch(id)));
    expect(w.conn.watching()).toHaveLength(1000);
    await first.stop('SIGKILL');
    const second = await startHubNode({ ...d.env, PORT: String(port) });
    d.hubs.push(second);
    await waitFor('the client to reconnect', () => w.conn.state === 'connected', 15_000);
    // Each re-watch answers with the snapshot (seq unchanged), so prove the watches are live: cancel
    // every job on the other node; the client must hear all 1,000 cancellations.
    await waitFor('every job watched again', () => w.conn.watching().length === 1000 && w.final.size === 0, 5000);
    await new Promise((r) => setTimeout(r, 1000)); // the re-watches (through 16 slots) go through
    for (let i = 0; i < ids.length; i += 50) {
      await Promise.all(ids.slice(i, i + 50).map((id) => api(d!.hubs[0]!.url, 'DELETE', `/api/jobs/${id}`)));
    }
    await waitFor('1,000 cancellations at the client', () => w.final.size === 1000, 30_000, 100);
    console.log(`[faults] hub node killed under a client watching 1,000 jobs: watching ${w.conn.watching().length}, cancellations heard ${w.final.size}`);
    expect(w.conn.watching()).toHaveLength(1000);
    expect([...w.final.values()].every((u) => u.state === 'cancelled')).toBe(true);
  }, 120_000);
});

