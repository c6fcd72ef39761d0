import type { HubNodeStats, QueueStats, WorkerStats } from '@switchboard/contracts';
import { Queue } from 'bullmq';
import type { Cluster, Redis } from 'ioredis';
import type { JobKeys, SystemKeys } from './keys.js';

/**
 * Takes the leadership when nobody holds it, renews it when we hold it. Returns 1 when we lead.
 * KEYS[1] leader key; ARGV[1] our id, ARGV[2] lease in ms.
 */
const LEAD_SCRIPT = `
local holder = redis.call('GET', KEYS[1])
if not holder then redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2]) return 1 end
if holder == ARGV[1] then redis.call('PEXPIRE', KEYS[1], ARGV[2]) return 1 end
return 0
`;

/** Deletes the key only if it still holds ARGV[1] (gives up a leadership we hold, nobody else's). */
const RESIGN_SCRIPT = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
`;

/** Removes hash fields whose value is still exactly the stale one read (a fresh heartbeat is kept). */
const PRUNE_SCRIPT = `
local n = 0
for i = 1, #ARGV, 2 do
  if redis.call('HGET', KEYS[1], ARGV[i]) == ARGV[i + 1] then n = n + redis.call('HDEL', KEYS[1], ARGV[i]) end
end
return n
`;

export interface SystemRegistryOptions {
  /** Heartbeats older than this are ignored and removed. @defaultValue 5000 */
  staleAfterMs?: number;
  /** How long the heartbeat hashes live without any write (a whole deployment gone). @defaultValue 60000 */
  idleTtlMs?: number;
  /** Clock. @defaultValue Date.now */
  now?: () => number;
}

/**
 * The live system view in Redis, shared by hub nodes and workers: heartbeats (one hash field per
 * process, rewritten about every second), the leader lease of the hub node that pushes
 * `systemStats`, and the per-second counters of jobs that reached a terminal state (written by
 * JobStore).
 *
 * Freshness is judged by `seenAt`, the writer's clock: processes whose clocks differ by more than
 * a second or two (`staleAfterMs` is 5 s) can be shown or dropped wrongly. Keep clocks in sync
 * (NTP), as for BullMQ's own timestamps.
 *
 * Every method sends a command or two; the caller chooses the client (apps use one without an
 * offline queue, so a call fails at once while Redis is down instead of piling up).
 */
export class SystemRegistry {
  private readonly staleAfterMs: number;
  private readonly idleTtlMs: number;
  private readonly now: () => number;

  constructor(
    private readonly redis: Redis | Cluster,
    readonly keys: SystemKeys,
    options: SystemRegistryOptions = {},
  ) {
    this.staleAfterMs = options.staleAfterMs ?? 5000;
    this.idleTtlMs = options.idleTtlMs ?? 60_000;
    this.now = options.now ?? Date.now;
  }

  /** Writes (replaces) this hub node's heartbeat. */
  reportHubNode(stats: HubNodeStats): Promise<void> {
    return this.write(this.keys.hubNodes, stats.nodeId, stats);
  }

  /** Writes (replaces) this worker's heartbeat. */
  reportWorker(stats: WorkerStats): Promise<void> {
    return this.write(this.keys.workers, stats.workerId, stats);
  }

  /** Removes a heartbeat at once (graceful shutdown), instead of letting it go stale. */
  async removeHubNode(nodeId: string): Promise<void> {
    await this.redis.hdel(this.keys.hubNodes, nodeId);
  }

  async removeWorker(workerId: string): Promise<void> {
    await this.redis.hdel(this.keys.workers, workerId);
  }

  /** Hub nodes with a fresh heartbeat, by node id. Stale entries are removed on the way. */
  hubNodes(): Promise<HubNodeStats[]> {
    return this.readFresh<HubNodeStats>(this.keys.hubNodes, (s) => s.nodeId);
  }

  /** Workers with a fresh heartbeat, by worker id. Stale entries are removed on the way. */
  workers(): Promise<WorkerStats[]> {
    return this.readFresh<WorkerStats>(this.keys.workers, (s) => s.workerId);
  }

  /**
   * Takes or renews the leader lease for `id` (lease `ttlMs`; renew well before it ends, e.g.
   * every second for 3 s). True while `id` leads. If the leader dies, another takes over within
   * `ttlMs`; two leaders at once are possible only around a lease expiring mid-renewal, and cost
   * nothing worse than a duplicate push.
   */
  async lead(id: string, ttlMs: number): Promise<boolean> {
    return Number(await this.redis.eval(LEAD_SCRIPT, 1, this.keys.leader, id, String(ttlMs))) === 1;
  }

  /** Gives the lease up if `id` holds it, so another node takes over at its next tick. */
  async resign(id: string): Promise<void> {
    await this.redis.eval(RESIGN_SCRIPT, 1, this.keys.leader, id);
  }

  /** The current lease holder, if any. */
  async leader(): Promise<string | undefined> {
    return (await this.redis.get(this.keys.leader)) ?? undefined;
  }

  /**
   * Jobs that reached a terminal state per second, averaged over the `windowSeconds` whole
   * seconds before the current one (the current second is still filling).
   */
  async jobsPerSecond(windowSeconds = 10): Promise<number> {
    const current = Math.floor(this.now() / 1000);
    const keys = Array.from({ length: windowSeconds }, (_, i) => this.keys.finished(current - 1 - i));
    const counts = await this.redis.mget(...keys);
    const total = counts.reduce((sum, c) => sum + (c ? Number(c) : 0), 0);
    return Math.round((total / windowSeconds) * 100) / 100;
  }

  private async write(key: string, field: string, value: object): Promise<void> {
    await this.redis.multi().hset(key, field, JSON.stringify(value)).pexpire(key, this.idleTtlMs).exec();
  }

  private async readFresh<T extends { readonly seenAt: number }>(key: string, idOf: (v: T) => string): Promise<T[]> {
    const all = await this.redis.hgetall(key);
    const oldest = this.now() - this.staleAfterMs;
    const fresh: T[] = [];
    const stale: string[] = [];
    for (const [field, raw] of Object.entries(all)) {
      let value: T | undefined;
      try {
        value = JSON.parse(raw) as T;
      } catch {
        value = undefined;
      }
      if (value && typeof value.seenAt === 'number' && value.seenAt >= oldest && idOf(value) === field) fresh.push(value);
      else stale.push(field, raw);
    }
    if (stale.length) await this.redis.eval(PRUNE_SCRIPT, 1, key, ...stale);
    return fresh.sort((a, b) => (idOf(a) < idOf(b) ? -1 : idOf(a) > idOf(b) ? 1 : 0));
  }
}

/** Reads the jobs queue's counts (what SystemStats.queue shows). */
export interface QueueCounter {
  read(): Promise<QueueStats>;
  /** Closes the BullMQ Queue handle; the client stays the caller's. */
  close(): Promise<void>;
}

/**
 * Queue counts over `client` (give it a fail-fast client: counts are for dashboards and must not
 * wait out a Redis outage). `waiting` includes prioritized jobs.
 */
export function queueCounter(client: Redis | Cluster, keys: JobKeys): QueueCounter {
  const queue = new Queue(keys.queueName, { connection: client, prefix: keys.bullPrefix });
  queue.on('error', () => {}); // failures surface as rejected reads
  return {
    async read() {
      const c = await queue.getJobCounts('waiting', 'prioritized', 'active', 'delayed', 'completed', 'failed');
      return { waiting: (c['waiting'] ?? 0) + (c['prioritized'] ?? 0), active: c['active'] ?? 0, delayed: c['delayed'] ?? 0, completed: c['completed'] ?? 0, failed: c['failed'] ?? 0 };
    },
    close: () => queue.close(),
  };
}
