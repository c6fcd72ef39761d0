import { LISTED_JOB_STATES, type JobListChange, type JobListPage, type JobListQuery, type JobSnapshot, type ListedJobState } from '@switchboard/contracts';
import { SwitchboardError } from '@switchboard/protocol';
import type { Cluster, Redis } from 'ioredis';
import type { JobStore } from './job-store.js';
import { indexKeys, type JobKeys } from './keys.js';
import { bandRange, PAGE_SCRIPT, runScript, UPGRADE_INDEX_SCRIPT } from './store-scripts.js';

/** Who lists: every job (admins), one owner's, or the anonymous jobs (owner undefined). */
export interface ListScope {
  readonly everyOwner: boolean;
  readonly owner?: string | undefined;
}

const MAX_LIMIT = 200;
const DEFAULT_LIMIT = 50;
/** Jobs per step of the per-state index upgrade (and SCAN COUNT ÷ 5 while it deletes the old sets). */
const UPGRADE_BATCH = 200;

/**
 * The operator's view of the jobs, paged from the list index (store-scripts.ts): newest first,
 * by state and job name, within the caller's scope. Nothing reads more than one page: a page is
 * one read-only script (the six counts, ZCOUNT per state, and `limit` ids by rank) plus the page's
 * snapshots.
 */
export class JobList {
  constructor(
    private readonly redis: Redis | Cluster,
    private readonly keys: JobKeys,
    private readonly store: JobStore,
  ) {}

  /** Checks and normalises a query (SB_JOB_LIST_INVALID naming the field). */
  static parse(query: unknown): { state: ListedJobState | 'all'; name: string | undefined; limit: number; offset: number } {
    const q = (query ?? {}) as Record<string, unknown>;
    if (typeof q !== 'object' || Array.isArray(q)) throw invalid('the query must be an object { state?, name?, limit?, cursor? }');
    const rawState = q['state'] === 'waiting' ? 'queued' : q['state'];
    if (rawState !== undefined && rawState !== '' && !LISTED_JOB_STATES.includes(rawState as ListedJobState)) {
      throw invalid(`state must be one of ${LISTED_JOB_STATES.join(', ')} (or waiting), got ${JSON.stringify(q['state'])}`);
    }
    const name = q['name'] === undefined || q['name'] === '' ? undefined : q['name'];
    if (name !== undefined && typeof name !== 'string') throw invalid(`name must be a job name, got ${JSON.stringify(name)}`);
    const limit = q['limit'] === undefined || q['limit'] === '' ? DEFAULT_LIMIT : Number(q['limit']);
    if (!Number.isSafeInteger(limit) || limit < 1 || limit > MAX_LIMIT) throw invalid(`limit must be an integer from 1 to ${MAX_LIMIT}, got ${JSON.stringify(q['limit'])}`);
    const cursor = q['cursor'] === undefined || q['cursor'] === '' ? '0' : q['cursor'];
    const offset = typeof cursor === 'string' && /^\d{1,9}$/.test(cursor) ? Number(cursor) : NaN;
    if (!Number.isSafeInteger(offset)) throw invalid(`cursor must be the nextCursor of a previous page, got ${JSON.stringify(q['cursor'])}`);
    return { state: (rawState || 'all') as ListedJobState | 'all', name, limit, offset };
  }

  /** One page and the counts per state (for the same scope and name filter). */
  async page(scope: ListScope, query: unknown): Promise<JobListPage> {
    const q = JobList.parse(query);
    const pick = { ...scope, name: q.name };
    const sets = indexKeys(this.keys, pick);
    const band = q.state === 'all' ? 'all' : LISTED_JOB_STATES.indexOf(q.state);
    const reply = (await runScript(this.redis, PAGE_SCRIPT, [sets.state, sets.time], [band, q.offset, q.limit + 1])) as (number | string)[];
    const ids = reply.slice(LISTED_JOB_STATES.length) as string[];
    const more = ids.length > q.limit;
    const pageIds = ids.slice(0, q.limit);
    const snapshots = await this.store.getMany(pageIds);
    // An id whose record expired (24 h after its last update) is dropped from the index here.
    const gone = pageIds.filter((_, i) => !snapshots[i]);
    if (gone.length) this.forget(gone, pick).catch(() => {});
    const counts = Object.fromEntries(LISTED_JOB_STATES.map((s, i) => [s, Number(reply[i])])) as Record<ListedJobState, number>;
    const jobs = snapshots.filter((s): s is JobSnapshot => s !== undefined);
    return more ? { jobs, counts, nextCursor: String(q.offset + q.limit) } : { jobs, counts };
  }

  /** The counts per state within a scope, every job name: one ZCOUNT per state band. */
  async counts(scope: ListScope): Promise<JobListChange['counts']> {
    const { state } = indexKeys(this.keys, scope);
    const pipeline = this.redis.pipeline();
    LISTED_JOB_STATES.forEach((_, b) => pipeline.zcount(state, ...bandRange(b)));
    const replies = (await pipeline.exec()) ?? [];
    const failed = replies.find(([err]) => err);
    if (failed) throw failed[0];
    return Object.fromEntries(LISTED_JOB_STATES.map((s, i) => [s, Number(replies[i]![1])])) as Record<ListedJobState, number>;
  }

  /** Bumped by every index change: hub nodes poll it to know when to push list changes. */
  async version(): Promise<string> {
    return (await this.redis.get(`${this.keys.index}version`)) ?? '0';
  }

  /**
   * Brings the per-state list index of earlier 0.1.0 builds (one sorted set per state per scope,
   * before the state-banded one) into this one, so jobs enqueued before an upgrade are listed and
   * counted, and deletes its sets (UPGRADE_INDEX_SCRIPT): a bounded step per call (200 jobs, or one
   * SCAN step), until done. Idempotent, and guarded by a marker (`<idx>upgrade`): once done, or on
   * a deployment that never had that index, it is one call.
   * `stop` is asked between steps (a closing service); a later run resumes. Answers how many jobs
   * were indexed.
   */
  async upgradeOldIndex(stop: () => boolean = () => false): Promise<number> {
    const idx = this.keys.index;
    const pattern = `${idx.replace(/[*?[\]\\]/g, '\\$&')}*`;
    let total = 0;
    while (!stop()) {
      const args = [idx, this.keys.snapshot(''), UPGRADE_BATCH, this.store.retentionSeconds, Date.now(), pattern];
      const [more, indexed] = (await runScript(this.redis, UPGRADE_INDEX_SCRIPT, [`${idx}upgrade`, `${idx}all`], args)) as [number, number];
      total += indexed;
      if (!more) break;
      // Other clients' commands between two steps.
      await new Promise((resolve) => setImmediate(resolve));
    }
    return total;
  }

  /** Drops ids whose record is gone from the scope's sets (the other scopes' sets are not known without the record). */
  private async forget(ids: readonly string[], scope: ListScope & { name?: string | undefined }): Promise<void> {
    const sets = indexKeys(this.keys, scope);
    await this.redis.pipeline().zrem(sets.state, ...ids).zrem(sets.time, ...ids).exec();
  }
}

function invalid(message: string): SwitchboardError {
  return new SwitchboardError('SB_JOB_LIST_INVALID', `Invalid job list query: ${message}.`);
}
