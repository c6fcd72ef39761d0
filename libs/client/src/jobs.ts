import type {
  AnyJob,
  EnqueueOptions,
  EnqueueResult,
  JobListChange,
  JobListPage,
  JobListQuery,
  JobNamed,
  JobShape,
  JobSnapshot,
  JobState,
  JobTypeInfo,
  JobUpdate,
  JobsClient,
  JobsServer,
} from '@switchboard/contracts';
import { HubClient, type ConnectionParts } from './hub-client.js';
import type { ClientOptions } from './options.js';
import { hubErrorCode, hubErrorMessage } from './errors.js';
import { SeqFilter } from './seq-filter.js';
import { retryDelay, Slots } from './watch-slots.js';

const TERMINAL: ReadonlySet<JobState> = new Set(['completed', 'failed', 'cancelled', 'lost']);

/** Answers after which a job is forgotten: it does not exist (any more) or is not the caller's. */
const FINAL_CODES: ReadonlySet<string> = new Set(['SB_JOB_NOT_FOUND', 'SB_JOB_FORBIDDEN']);
/** Watch invocations in flight at once per connection (the hub refuses those past 100 pending). */
const WATCH_SLOTS = 16;
/** How long a `watch` call retries transient refusals (SB_INVOCATION_LIMIT, Redis down) before it rejects; the job stays watched and is retried in the background. */
const WATCH_RETRY_BUDGET_MS = 10_000;
/** Updates kept at most while enqueue-and-watch answers are outstanding. */
const EARLY_LIMIT = 10_000;
/** The pause between background retries of watches that have not gone through. */
const BACKGROUND_RETRY_MS = 3_000;

/** How an update reached the client (the second argument of `onJobUpdated` handlers). */
export interface UpdateInfo {
  /** Pushed by the hub (`jobUpdated`); false for the snapshot a `watch` answered, and for a `lost` update. */
  readonly live: boolean;
}
const LIVE: UpdateInfo = Object.freeze({ live: true });
const SNAPSHOT: UpdateInfo = Object.freeze({ live: false });

interface Watched {
  /** The terminal update was seen: nothing can follow, so it is not watched again. */
  ended: boolean;
  /** The connection (counted by `#epoch`) on which the hub last confirmed the watch. */
  watchedIn: number | undefined;
  /** The watch invocation under way for this job, shared by every caller. */
  inFlight: Promise<JobSnapshot> | undefined;
  /** The job's name, from its first update (for a `lost` update). */
  name: string | undefined;
}

class Refused extends Error {}

/**
 * A connection to the jobs hub (`/hubs/jobs`), typed by your job set (`connectJobs<typeof jobs>(url)`):
 * `enqueue` takes only its job names and each job's data, and updates narrow by `name`
 * (`if (u.name === 'report') u.result` is the report job's result).
 *
 * - `onJobUpdated` handlers get each watched job's updates (the `watch` snapshot included) at most
 *   once and in `seq` order: anything whose seq is not above the highest seen is dropped.
 * - Group membership lives on the hub connection, so after every reconnect (and after the first
 *   start, for watches asked for before it) every watched job that has not ended is watched again;
 *   `watch` answers with the snapshot, so a final state reached while the connection was down is
 *   still delivered.
 * - Watches go out through a few slots (16 in flight), so watching 1,000 jobs at once, or
 *   re-watching them after a reconnect, never runs into the hub's pending-invocation limit.
 * - A job is forgotten only on a final answer: SB_JOB_NOT_FOUND or SB_JOB_FORBIDDEN. Other
 *   refusals (SB_INVOCATION_LIMIT, Redis unreachable) are retried with backoff: a `watch` call for
 *   about 10 s before it rejects, and then in the background every 3 s until the hub answers; a
 *   watch that fails because the connection is down is retried once it is up.
 * - A job that was being watched and whose record is gone (SB_JOB_NOT_FOUND on a re-watch: Redis
 *   lost its data, or it expired) gets a terminal `lost` update with the reason, reported to
 *   `onWatchError` too; watchers never wait on a job that no longer exists.
 */
export class JobsConnection<J extends JobShape = AnyJob> extends HubClient<JobsServer, JobsClient> implements JobsServer<J> {
  readonly #filter = new SeqFilter();
  readonly #jobs = new Map<string, Watched>();
  readonly #updateHandlers = new Set<(update: JobUpdate<J>, info: UpdateInfo) => void>();
  readonly #watchErrorHandlers = new Set<(jobId: string, error: Error) => void>();
  readonly #slots = new Slots(WATCH_SLOTS);
  /** Enqueue-and-watch calls not answered yet, and the updates of jobs not known yet that arrived meanwhile (bounded). */
  #enqueuesInFlight = 0;
  readonly #early: JobUpdate[] = [];
  #listWatched = false;
  #retryTimer: ReturnType<typeof setTimeout> | undefined;
  #epoch = 0;

  constructor(parts: ConnectionParts, options: ClientOptions = {}) {
    super(parts, options);
    this.on('jobUpdated', (update) => {
      // An update can beat the answer of the enqueue-and-watch that joined its group: keep it for then.
      if (this.#enqueuesInFlight > 0 && !this.#jobs.has(update.jobId) && this.#early.length < EARLY_LIMIT) this.#early.push(update);
      this.#accept(update, LIVE);
    });
    this.onStateChange(({ state }) => {
      if (state !== 'connected') return;
      this.#epoch++;
      void this.#rewatch(this.#epoch);
      // The list subscription lives on the hub connection too.
      if (this.#listWatched) void this.invoke('watchList').catch(() => {});
    });
  }

  /** Validates and enqueues a job; resolves with its id (the job is `queued`). Does not watch it. */
  /**
   * Validates and enqueues a job; resolves with its id (the job is `queued`, or `delayed`). With
   * `{ watch: true }` it is also watched, in the same round trip, as by `watch`: the answer carries
   * the snapshot, and updates that beat the answer are kept and delivered after it.
   */
  async enqueue<N extends J['name']>(name: N, data: JobNamed<J, N>['data'], options?: EnqueueOptions): Promise<EnqueueResult> {
    if (!options?.watch) return options === undefined ? this.invoke('enqueue', name, data) : this.invoke('enqueue', name, data, options);
    this.#enqueuesInFlight++;
    try {
      const result = await this.invoke('enqueue', name, data, options);
      if (!this.#jobs.has(result.jobId)) this.#jobs.set(result.jobId, { ended: false, watchedIn: this.#epoch, inFlight: undefined, name: undefined });
      if (result.snapshot) this.#accept(result.snapshot, SNAPSHOT);
      for (const u of this.#early.filter((e) => e.jobId === result.jobId)) this.#accept(u, LIVE);
      return result;
    } finally {
      if (--this.#enqueuesInFlight === 0) this.#early.length = 0;
    }
  }

  /** The hub's job set: names, stages, attempts and each job's data as JSON Schema. */
  jobTypes(): Promise<JobTypeInfo[]> {
    return this.invoke('jobTypes');
  }

  /** A page of jobs, newest first (every job for admins, your own for users). */
  list(query: JobListQuery = {}): Promise<JobListPage<J>> {
    return this.invoke('list', query) as Promise<JobListPage<J>>;
  }

  /**
   * Gets `jobListChanged` pushes (coalesced, about 10 per second at most) until `unwatchList`,
   * through reconnects; resolves with the counts now.
   */
  async watchList(): Promise<JobListChange> {
    this.#listWatched = true;
    return this.invoke('watchList');
  }

  async unwatchList(): Promise<void> {
    this.#listWatched = false;
    if (this.state === 'connected') await this.invoke('unwatchList');
  }

  /** Runs a failed job again; its watchers see it queued, then the next attempt. */
  retry(jobId: string): Promise<{ jobId: string }> {
    return this.invoke('retry', jobId);
  }

  /** Deletes a finished job and its record. */
  remove(jobId: string): Promise<boolean> {
    return this.invoke('remove', jobId);
  }

  /** Gets the list-change pushes of `watchList`; returns a function that removes the handler. */
  onJobListChanged(handler: (change: JobListChange) => void): () => void {
    return this.on('jobListChanged', handler);
  }

  /** Watches a job until `unwatch` (through reconnects); resolves with its snapshot. */
  async watch(jobId: string): Promise<JobSnapshot<J>> {
    let entry = this.#jobs.get(jobId);
    if (!entry) {
      entry = { ended: false, watchedIn: undefined, inFlight: undefined, name: undefined };
      this.#jobs.set(jobId, entry);
    }
    try {
      return (await this.#ensureWatched(jobId, entry, Date.now() + WATCH_RETRY_BUDGET_MS)) as JobSnapshot<J>;
    } catch (err) {
      if (err instanceof Refused) throw err.cause;
      // Not watched yet but still wanted: retried when the connection is up, or in the background.
      if (this.state === 'connected') this.#retryLater();
      throw err;
    }
  }

  /** Stops watching: no more updates for the job reach the handlers, and it is not re-watched. */
  async unwatch(jobId: string): Promise<void> {
    this.#drop(jobId);
    // When the connection is down its group membership is gone with it.
    if (this.state === 'connected') await this.invoke('unwatch', jobId);
  }

  /** True when the job ended cancelled by this call; false when it had already ended. */
  cancel(jobId: string): Promise<boolean> {
    return this.invoke('cancel', jobId);
  }

  /** Stops for good (see HubClient.stop), with the background re-watch. */
  override async stop(): Promise<void> {
    if (this.#retryTimer !== undefined) clearTimeout(this.#retryTimer);
    this.#retryTimer = undefined;
    await super.stop();
  }

  /** The ids being watched (ended ones included, until `unwatch`). */
  watching(): string[] {
    return [...this.#jobs.keys()];
  }

  /** The highest seq delivered for a job. */
  highestSeq(jobId: string): number | undefined {
    return this.#filter.highest(jobId);
  }

  /**
   * Gets every accepted update of every watched job, with whether the hub pushed it (`live`) or it
   * is the snapshot a watch answered; returns a function that removes the handler.
   */
  onJobUpdated(handler: (update: JobUpdate<J>, info: UpdateInfo) => void): () => void {
    this.#updateHandlers.add(handler);
    return () => this.#updateHandlers.delete(handler);
  }

  /** Gets the error when the hub refuses a job that was being watched (not found, forbidden): the job is then dropped, after a `lost` update when it was gone. */
  onWatchError(handler: (jobId: string, error: Error) => void): () => void {
    this.#watchErrorHandlers.add(handler);
    return () => this.#watchErrorHandlers.delete(handler);
  }

  /**
   * Watches the job through the slots, retrying transient refusals with backoff until `deadline`
   * (undefined: for as long as the connection lasts). Rejects with `Refused` (the hub's final
   * answer; the job is then dropped) or the last error.
   */
  #ensureWatched(jobId: string, entry: Watched, deadline: number | undefined): Promise<JobSnapshot> {
    if (entry.inFlight) return entry.inFlight;
    const epoch = this.#epoch;
    const attempt = async (): Promise<JobSnapshot> => {
      for (let n = 0; ; n++) {
        try {
          const snapshot = await this.#slots.run(() => this.invoke('watch', jobId));
          if (this.#jobs.get(jobId) === entry) entry.watchedIn = epoch;
          this.#accept(snapshot, SNAPSHOT);
          return snapshot;
        } catch (err) {
          // Down, or down and up again: the reconnect's re-watch takes over.
          if (this.state !== 'connected' || this.#epoch !== epoch || this.#jobs.get(jobId) !== entry) throw err;
          const code = hubErrorCode(err);
          if (code && FINAL_CODES.has(code)) {
            this.#refuse(jobId, entry, err, code);
            throw new Refused('refused', { cause: err });
          }
          const wait = retryDelay(n);
          if (deadline !== undefined && Date.now() + wait > deadline) throw err;
          await new Promise((r) => setTimeout(r, wait));
        }
      }
    };
    const running = attempt().finally(() => {
      if (entry.inFlight === running) entry.inFlight = undefined;
    });
    entry.inFlight = running;
    return running;
  }

  /** The hub's final answer for a watched job: drop it; a job that had been seen and is now gone ends `lost`. */
  #refuse(jobId: string, entry: Watched, err: unknown, code: string): void {
    const seenBefore = this.#filter.highest(jobId) !== undefined;
    if (code === 'SB_JOB_NOT_FOUND' && seenBefore && !entry.ended) {
      const reason = `The job's record is gone from Redis (${hubErrorMessage(err)}): Redis lost its data (restarted without persistence, or evicted keys) or the record expired. Its outcome is unknown.`;
      const now = Date.now();
      this.#accept({ jobId, name: entry.name ?? '', seq: Number.MAX_SAFE_INTEGER, state: 'lost', progress: 0, attempt: 0, error: reason, createdAt: now, updatedAt: now }, SNAPSHOT);
    }
    const wasWatched = entry.watchedIn !== undefined || seenBefore;
    this.#drop(jobId);
    if (!wasWatched) return; // a first watch of a bad id: the caller gets the rejection
    const error = err instanceof Error ? err : new Error(String(err));
    for (const h of [...this.#watchErrorHandlers]) h(jobId, error);
  }

  #drop(jobId: string): void {
    this.#jobs.delete(jobId);
    this.#filter.forget(jobId);
  }

  #accept(received: JobUpdate, info: UpdateInfo): void {
    const entry = this.#jobs.get(received.jobId);
    if (!entry || !this.#filter.accept(received)) return;
    // A `lost` update from the hub's resync cannot know the job's name (its record is gone).
    const update = received.state === 'lost' && !received.name && entry.name ? { ...received, name: entry.name } : received;
    entry.name ??= update.name;
    if (TERMINAL.has(update.state)) entry.ended = true;
    for (const h of [...this.#updateHandlers]) {
      try {
        h(update as JobUpdate<J>, info);
      } catch (err) {
        console.error('@switchboard/client: a jobUpdated handler threw', err);
      }
    }
  }

  /** Watches every job not yet watched on this connection, through the slots, retrying until it goes through or the connection drops. */
  async #rewatch(epoch: number): Promise<void> {
    const due = [...this.#jobs].filter(([, j]) => !j.ended && j.watchedIn !== epoch);
    await Promise.all(due.map(([jobId, entry]) => this.#ensureWatched(jobId, entry, undefined).catch(() => {})));
  }

  /** Re-watches what is still not watched after a while (a `watch` call that gave up on transient refusals). */
  #retryLater(): void {
    if (this.#retryTimer !== undefined) return;
    this.#retryTimer = setTimeout(() => {
      this.#retryTimer = undefined;
      if (this.state === 'connected') void this.#rewatch(this.#epoch);
    }, BACKGROUND_RETRY_MS);
  }
}
