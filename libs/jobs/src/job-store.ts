import type { JobSnapshot, JobState } from '@switchboard/contracts';
import type { Cluster, Redis } from 'ioredis';
import { indexName, indexOwner, type JobKeys } from './keys.js';
import { CANCEL_SCRIPT, CREATE_SCRIPT, INDEX_ACTIVE_SCRIPT, REMOVE_SCRIPT, REOPEN_SCRIPT, runScript, UPDATE_SCRIPT, WATCH_SCRIPT } from './store-scripts.js';
import { attachRoutes, checkRoute, MAX_ROUTES } from './watch-routes.js';

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
/** Finished jobs are counted in memory and added to Redis this often (one INCRBY per second counted). */
const FINISHED_FLUSH_MS = 200;

/** What `create` records besides name and owner. */
export interface CreateOptions {
  /** Enqueued with a delay: the job starts `delayed` with this due time (ms since the epoch). */
  readonly dueAt?: number;
  readonly priority?: number;
  /** Seen in the last 24 h: nothing is created and the first job's id is returned. */
  readonly idempotencyKey?: string;
  /** The route id of the hub node whose connection watches from the start (enqueue-and-watch; see watch-routes.ts). */
  readonly route?: string;
}

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
  /** Finished jobs per epoch second, not yet added to Redis (see countFinished). */
  private readonly finished = new Map<number, number>();
  private finishedTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly redis: Client,
    private readonly keys: JobKeys,
    /** How long a job's snapshot is kept after its last update (a delayed job's: after its due time). */
    readonly retentionSeconds = 24 * 3600,
  ) {}

  /**
   * Writes a new job's snapshot (`queued`, or `delayed` with `dueAt`; seq 1) and indexes it, in one
   * script. Answers the snapshot as written (what an enqueue-and-watch returns). With an
   * idempotency key already used in the last 24 h nothing is written and `created` is false, with
   * the first job's id. A delayed job's record is kept for the retention after its due time (the
   * retention plus the delay), so it is still there when the job runs. `byText`: the script is
   * sent with its text (EVAL), so it cannot fail for a script Redis lost (see runScript).
   */
  async create(jobId: string, name: string, owner: string | undefined, options: CreateOptions = {}, now = Date.now(), byText = false): Promise<{ created: true; jobId: string; snapshot: JobSnapshot } | { created: false; jobId: string }> {
    const fields = this.fields(jobId, name, owner, options, now);
    const snapshot = this.keys.snapshot(jobId);
    // No idempotency key: the snapshot's key again (see CREATE_SCRIPT).
    const idem = options.idempotencyKey !== undefined ? this.keys.idempotency(options.idempotencyKey) : snapshot;
    const [created, id] = (await runScript(this.redis, CREATE_SCRIPT, [snapshot, idem], [this.createTtl(options, now), this.keys.index, jobId, ...Object.entries(fields).flat()], byText)) as [number, string];
    return created === 1 ? { created: true, jobId: id, snapshot: parseSnapshot(fields)! } : { created: false, jobId: id };
  }

  /** Creates many snapshots in one pipeline (no idempotency keys); by SHA, sent again with the script's text if Redis lacks it. */
  async createMany(jobs: readonly { jobId: string; name: string; owner: string | undefined; options?: Omit<CreateOptions, 'idempotencyKey'> }[], now = Date.now()): Promise<void> {
    const send = async (byText: boolean) => {
      const pipeline = this.redis.pipeline();
      for (const j of jobs) {
        const snapshot = this.keys.snapshot(j.jobId);
        const args = [snapshot, snapshot, this.createTtl(j.options ?? {}, now), this.keys.index, j.jobId, ...Object.entries(this.fields(j.jobId, j.name, j.owner, j.options ?? {}, now)).flat()];
        if (byText) pipeline.eval(CREATE_SCRIPT.body, 2, ...args);
        else pipeline.evalsha(CREATE_SCRIPT.sha, 2, ...args);
      }
      return ((await pipeline.exec()) ?? []).find(([err]) => err)?.[0];
    };
    let failed = await send(false);
    // Creating a job twice writes the same fields again: harmless.
    if (failed && /NOSCRIPT/.test(failed.message)) failed = await send(true);
    if (failed) throw failed;
  }

  /** A new record's TTL in seconds: the retention, counted from the due time for a delayed job. */
  private createTtl(options: CreateOptions, now: number): number {
    const delayMs = options.dueAt !== undefined ? Math.max(0, options.dueAt - now) : 0;
    return this.retentionSeconds + Math.ceil(delayMs / 1000);
  }

  private fields(jobId: string, name: string, owner: string | undefined, options: CreateOptions, now: number): Record<string, string> {
    const fields: Record<string, string> = { jobId, name, seq: '1', state: options.dueAt !== undefined ? 'delayed' : 'queued', progress: '0', attempt: '1', createdAt: String(now), updatedAt: String(now), _o: indexOwner(owner), _n: indexName(name) };
    if (owner) fields['owner'] = owner;
    if (options.dueAt !== undefined) fields['dueAt'] = String(options.dueAt);
    if (options.priority !== undefined) fields['priority'] = String(options.priority);
    if (options.route) fields['_w'] = checkRoute(options.route);
    return fields;
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

  /**
   * Returns the new snapshot, or undefined when the job is unknown or already terminal. With
   * `unlessCancelRequested`, a job whose cancel was requested is left as it is and the answer is
   * 'cancel-requested' (a worker starting a job checks and writes `active` in one round trip).
   * With `indexActiveLater` (a worker's `active`), the list index is not moved: the job keeps its
   * earlier band until its next state change or `indexActive` (see JobsWorker).
   */
  async update(jobId: string, patch: JobPatch, now?: number): Promise<JobSnapshot | undefined>;
  async update(jobId: string, patch: JobPatch, now: number | undefined, options: { unlessCancelRequested: true; indexActiveLater?: boolean }): Promise<JobSnapshot | 'cancel-requested' | undefined>;
  async update(jobId: string, patch: JobPatch, now = Date.now(), options: { unlessCancelRequested?: boolean; indexActiveLater?: boolean } = {}): Promise<JobSnapshot | 'cancel-requested' | undefined> {
    const index = options.indexActiveLater && patch.state === 'active' ? '' : this.keys.index;
    const args: string[] = [String(this.retentionSeconds), index, options.unlessCancelRequested ? 'unless-cancel-requested' : '', 'updatedAt', String(now)];
    if (patch.state !== undefined) args.push('state', patch.state);
    if (patch.state !== undefined && TERMINAL.has(patch.state)) args.push('finishedAt', String(now));
    if (patch.progress !== undefined) args.push('progress', String(Math.max(0, Math.min(100, Math.round(patch.progress * 10) / 10))));
    if (patch.stage !== undefined) args.push('stage', patch.stage ?? '');
    if (patch.result !== undefined) args.push('result', JSON.stringify(patch.result));
    if (patch.error !== undefined) args.push('error', patch.error ?? '');
    if (patch.attempt !== undefined) args.push('attempt', String(patch.attempt));
    if (patch.startedAt !== undefined) args.push('startedAt', String(patch.startedAt));
    // The script answers false (nil), 'cancel-requested', or the hash as a JSON object.
    const reply = (await runScript(this.redis, UPDATE_SCRIPT, [this.keys.snapshot(jobId)], args)) as string | null;
    if (!reply) return undefined;
    if (reply === 'cancel-requested') return reply;
    const hash = JSON.parse(reply) as Record<string, string>;
    // The script lets exactly one terminal update through per job, so this counts each job once.
    if (patch.state !== undefined && TERMINAL.has(patch.state)) this.countFinished(now);
    const snapshot = parseSnapshot(hash);
    return snapshot && attachRoutes(snapshot, hash['_w']);
  }

  /**
   * Registers hub node `route` as watching the job (see watch-routes.ts) and answers its snapshot,
   * in one script: every update written after this names the node. Undefined for an unknown job
   * (nothing is written then). A job whose watch has ended (completed, cancelled) is answered
   * without registering. `full`: the record names MAX_ROUTES nodes already and did not take this
   * one; its watchers must join through the group's channel (publishers send there too).
   */
  async watch(jobId: string, route: string): Promise<{ snapshot: JobSnapshot; full: boolean } | undefined> {
    const reply = (await runScript(this.redis, WATCH_SCRIPT, [this.keys.snapshot(jobId)], [checkRoute(route), MAX_ROUTES])) as [string, string[]] | null;
    const snapshot = reply ? parseSnapshot(pairs(reply[1])) : undefined;
    return snapshot && { snapshot, full: reply![0] === 'full' };
  }

  /**
   * Moves a job written `active` with `indexActiveLater` into the list index's `active` band, if it
   * is still active (true when it was). Idempotent, in any order against the job's other writes.
   */
  async indexActive(jobId: string): Promise<boolean> {
    return (await runScript(this.redis, INDEX_ACTIVE_SCRIPT, [this.keys.snapshot(jobId)], [this.keys.index])) === 1;
  }

  /**
   * Counts one finished job in the current second (what `jobsPerSecond` sums). Counted in memory
   * and added to Redis within FINISHED_FLUSH_MS, one INCRBY per second counted, not one command
   * per job. Best effort: a count lost (Redis down, the process killed before the flush) only
   * skews the rate shown. Not part of the update script: on a Cluster the counters live in
   * another slot than the job's hash.
   */
  private countFinished(now: number): void {
    const second = Math.floor(now / 1000);
    this.finished.set(second, (this.finished.get(second) ?? 0) + 1);
    if (this.finishedTimer) return;
    this.finishedTimer = setTimeout(() => void this.flushFinished(), FINISHED_FLUSH_MS);
    this.finishedTimer.unref?.();
  }

  /** Adds the finished-job counts not yet in Redis (called by the timer, and on close). */
  async flushFinished(): Promise<void> {
    clearTimeout(this.finishedTimer);
    this.finishedTimer = undefined;
    if (!this.finished.size) return;
    const pipeline = this.redis.pipeline();
    for (const [second, n] of this.finished) pipeline.incrby(this.keys.system.finished(second), n).expire(this.keys.system.finished(second), FINISHED_COUNTER_TTL_SECONDS);
    this.finished.clear();
    await pipeline.exec().catch(() => {});
  }

  /** Records a cancel request; returns the state found, or undefined for an unknown job. */
  async requestCancel(jobId: string): Promise<JobState | undefined> {
    const state = (await runScript(this.redis, CANCEL_SCRIPT, [this.keys.snapshot(jobId)], [])) as JobState | null;
    return state ?? undefined;
  }

  /** Reopens a failed job for a retry (`queued`, seq + 1). The state found when it is not failed; undefined when unknown. */
  async reopen(jobId: string, now = Date.now()): Promise<{ snapshot: JobSnapshot } | { state: JobState } | undefined> {
    const reply = (await runScript(this.redis, REOPEN_SCRIPT, [this.keys.snapshot(jobId)], [this.retentionSeconds, this.keys.index, now])) as string[] | string | null;
    if (reply === null) return undefined;
    if (typeof reply === 'string') return { state: reply as JobState };
    const hash = pairs(reply);
    return { snapshot: attachRoutes(parseSnapshot(hash)!, hash['_w']) };
  }

  /** Deletes a finished job's snapshot and index entries: true, the state found when not finished, or undefined when unknown. */
  async remove(jobId: string): Promise<true | JobState | undefined> {
    const reply = (await runScript(this.redis, REMOVE_SCRIPT, [this.keys.snapshot(jobId)], [this.keys.index])) as number | string | null;
    if (reply === null) return undefined;
    return reply === 1 ? true : (reply as JobState);
  }

  /** Many snapshots at once (one round trip); undefined where a job's record is gone. */
  async getMany(jobIds: readonly string[]): Promise<(JobSnapshot | undefined)[]> {
    if (!jobIds.length) return [];
    const pipeline = this.redis.pipeline();
    for (const id of jobIds) pipeline.hgetall(this.keys.snapshot(id));
    const replies = (await pipeline.exec()) ?? [];
    return replies.map(([err, hash]) => (err ? undefined : parseSnapshot(hash as Record<string, string>)));
  }
}

function pairs(reply: readonly string[]): Record<string, string> {
  const hash: Record<string, string> = {};
  for (let i = 0; i + 1 < reply.length; i += 2) hash[reply[i]!] = reply[i + 1]!;
  return hash;
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
  if (hash['dueAt']) out['dueAt'] = num('dueAt');
  if (hash['priority']) out['priority'] = num('priority');
  return out as unknown as JobSnapshot;
}
