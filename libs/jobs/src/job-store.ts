import type { JobSnapshot, JobState } from '@switchboard/contracts';
import type { Cluster, Redis } from 'ioredis';
import type { JobKeys } from './keys.js';

export const TERMINAL: ReadonlySet<JobState> = new Set(['completed', 'failed', 'cancelled', 'lost']);

/**
 * What watchers are told about a job whose record is gone from Redis (it restarted empty, evicted
 * keys, or the record expired): a terminal `lost` update. Never stored; its `seq` is the highest
 * possible so every client's seq filter lets it through and drops anything after it.
 */
export function lostUpdate(jobId: string, now = Date.now()): JobSnapshot {
  return {
    jobId,
    name: '',
    seq: Number.MAX_SAFE_INTEGER,
    state: 'lost',
    progress: 0,
    attempt: 0,
    error: "The job's record is gone from Redis: Redis lost its data (restarted without persistence, or evicted keys) or the record expired. Its outcome is unknown; enqueue it again if it matters.",
    createdAt: now,
    updatedAt: now,
  };
}

/** Per-second finished-job counters live this long (the rate reads the last 10 s). */
const FINISHED_COUNTER_TTL_SECONDS = 60;

/**
 * Applies an update atomically: refuses it when the job is unknown or already terminal (so no
 * progress can follow the final state, whoever wins a race), bumps `seq`, sets the given fields
 * (an empty value deletes the field), renews the retention (ARGV[1], seconds) and returns the
 * whole hash. One round trip per update.
 */
const UPDATE_SCRIPT = `
local state = redis.call('HGET', KEYS[1], 'state')
if not state then return false end
if state == 'completed' or state == 'failed' or state == 'cancelled' then return false end
redis.call('HINCRBY', KEYS[1], 'seq', 1)
redis.call('EXPIRE', KEYS[1], tonumber(ARGV[1]))
for i = 2, #ARGV, 2 do
  if ARGV[i + 1] == '' then redis.call('HDEL', KEYS[1], ARGV[i]) else redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1]) end
end
return redis.call('HGETALL', KEYS[1])
`;

/** Marks a cancel request unless the job already ended; returns the state it found (or false). */
const CANCEL_SCRIPT = `
local state = redis.call('HGET', KEYS[1], 'state')
if not state then return false end
if state ~= 'completed' and state ~= 'failed' and state ~= 'cancelled' then redis.call('HSET', KEYS[1], 'cancelRequested', '1') end
return state
`;

export interface JobPatch {
  state?: JobState;
  progress?: number;
  /** `null` clears it. */
  stage?: string | null;
  result?: unknown;
  /** `null` clears it. */
  error?: string | null;
  attempt?: number;
  startedAt?: number;
}

type Client = Redis | Cluster;

/**
 * The source of truth for what watchers see: one Redis hash per job holding its latest update.
 * Every update goes through `update`, which orders them by `seq` and stops at the terminal state.
 */
export class JobStore {
  constructor(
    private readonly redis: Client,
    private readonly keys: JobKeys,
    /** How long a job's snapshot is kept after its last update. */
    private readonly retentionSeconds = 24 * 3600,
  ) {}

  async create(jobId: string, name: string, owner: string | undefined, now = Date.now()): Promise<JobSnapshot> {
    const key = this.keys.snapshot(jobId);
    const fields: Record<string, string> = { jobId, name, seq: '1', state: 'queued', progress: '0', attempt: '1', createdAt: String(now), updatedAt: String(now) };
    if (owner) fields['owner'] = owner;
    await this.redis.multi().hset(key, fields).expire(key, this.retentionSeconds).exec();
    return parseSnapshot(fields)!;
  }

  async get(jobId: string): Promise<JobSnapshot | undefined> {
    return parseSnapshot(await this.redis.hgetall(this.keys.snapshot(jobId)));
  }

  /** Who enqueued the job: the user id, null for an anonymous job, undefined for an unknown job. */
  async owner(jobId: string): Promise<string | null | undefined> {
    const [id, owner] = await this.redis.hmget(this.keys.snapshot(jobId), 'jobId', 'owner');
    if (!id) return undefined;
    return owner || null;
  }

  async isCancelRequested(jobId: string): Promise<boolean> {
    return (await this.redis.hget(this.keys.snapshot(jobId), 'cancelRequested')) === '1';
  }

  /** Returns the new snapshot, or undefined when the job is unknown or already terminal. */
  async update(jobId: string, patch: JobPatch, now = Date.now()): Promise<JobSnapshot | undefined> {
    const args: string[] = [String(this.retentionSeconds), 'updatedAt', String(now)];
    if (patch.state !== undefined) args.push('state', patch.state);
    if (patch.state !== undefined && TERMINAL.has(patch.state)) args.push('finishedAt', String(now));
    if (patch.progress !== undefined) args.push('progress', String(Math.max(0, Math.min(100, Math.round(patch.progress * 10) / 10))));
    if (patch.stage !== undefined) args.push('stage', patch.stage ?? '');
    if (patch.result !== undefined) args.push('result', JSON.stringify(patch.result));
    if (patch.error !== undefined) args.push('error', patch.error ?? '');
    if (patch.attempt !== undefined) args.push('attempt', String(patch.attempt));
    if (patch.startedAt !== undefined) args.push('startedAt', String(patch.startedAt));
    const key = this.keys.snapshot(jobId);
    const reply = (await this.redis.eval(UPDATE_SCRIPT, 1, key, ...args)) as string[] | null;
    if (!reply) return undefined;
    const hash: Record<string, string> = {};
    for (let i = 0; i + 1 < reply.length; i += 2) hash[reply[i]!] = reply[i + 1]!;
    // The script lets exactly one terminal update through per job, so this counts each job once.
    if (patch.state !== undefined && TERMINAL.has(patch.state)) this.countFinished(now);
    return parseSnapshot(hash);
  }

  /**
   * Adds one to the current second's finished-jobs counter (what `jobsPerSecond` sums). Best
   * effort and not awaited: a lost count only skews the rate shown; the update itself succeeded.
   * A separate command, not part of the script, because on a Cluster the counter lives in
   * another slot than the job's hash.
   */
  private countFinished(now: number): void {
    const key = this.keys.system.finished(Math.floor(now / 1000));
    this.redis
      .multi()
      .incr(key)
      .expire(key, FINISHED_COUNTER_TTL_SECONDS)
      .exec()
      .catch(() => {});
  }

  /** Records a cancel request; returns the state found, or undefined for an unknown job. */
  async requestCancel(jobId: string): Promise<JobState | undefined> {
    const state = (await this.redis.eval(CANCEL_SCRIPT, 1, this.keys.snapshot(jobId))) as JobState | null;
    return state ?? undefined;
  }
}

/** Converts the Redis hash into a JobSnapshot (undefined when empty). */
export function parseSnapshot(hash: Record<string, string>): JobSnapshot | undefined {
  if (!hash['jobId'] || !hash['state']) return undefined;
  const num = (k: string) => (hash[k] !== undefined ? Number(hash[k]) : undefined);
  const out: Record<string, unknown> = {
    jobId: hash['jobId'],
    name: hash['name'],
    seq: num('seq'),
    state: hash['state'],
    progress: num('progress') ?? 0,
    attempt: num('attempt') ?? 1,
    createdAt: num('createdAt'),
    updatedAt: num('updatedAt'),
  };
  if (hash['stage']) out['stage'] = hash['stage'];
  if (hash['error']) out['error'] = hash['error'];
  if (hash['owner']) out['owner'] = hash['owner'];
  if (hash['result'] !== undefined) out['result'] = JSON.parse(hash['result']);
  if (hash['startedAt']) out['startedAt'] = num('startedAt');
  if (hash['finishedAt']) out['finishedAt'] = num('finishedAt');
  return out as unknown as JobSnapshot;
}
