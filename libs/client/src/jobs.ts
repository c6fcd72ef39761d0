import type { AnyJob, JobNamed, JobShape, JobSnapshot, JobState, JobUpdate, JobsClient, JobsServer } from '@switchboard/contracts';
import { HubClient, type ConnectionParts } from './hub-client.js';
import type { ClientOptions } from './options.js';
import { SeqFilter } from './seq-filter.js';

const TERMINAL: ReadonlySet<JobState> = new Set(['completed', 'failed', 'cancelled']);

/** How an update reached the client (the second argument of `onJobUpdated` handlers). */
export interface UpdateInfo {
  /** Pushed by the hub (`jobUpdated`); false for the snapshot a `watch` answered. */
  readonly live: boolean;
}
const LIVE: UpdateInfo = Object.freeze({ live: true });
const SNAPSHOT: UpdateInfo = Object.freeze({ live: false });

interface Watched {
  /** The terminal update was seen: nothing can follow, so it is not watched again. */
  ended: boolean;
  /** The connection (counted by `#epoch`) on which the hub last confirmed the watch. */
  watchedIn: number | undefined;
}

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
 * - A `watch` that fails because the connection is down stays in the list and is retried when it is
 *   up; one the hub refuses (an unknown or expired id) is dropped (reported to `onWatchError` when
 *   it was a re-watch).
 */
export class JobsConnection<J extends JobShape = AnyJob> extends HubClient<JobsServer, JobsClient> implements JobsServer<J> {
  readonly #filter = new SeqFilter();
  readonly #jobs = new Map<string, Watched>();
  readonly #updateHandlers = new Set<(update: JobUpdate<J>, info: UpdateInfo) => void>();
  readonly #watchErrorHandlers = new Set<(jobId: string, error: Error) => void>();
  #epoch = 0;

  constructor(parts: ConnectionParts, options: ClientOptions = {}) {
    super(parts, options);
    this.on('jobUpdated', (update) => this.#accept(update, LIVE));
    this.onStateChange(({ state }) => {
      if (state !== 'connected') return;
      this.#epoch++;
      void this.#rewatch(this.#epoch);
    });
  }

  /** Validates and enqueues a job; resolves with its id (the job is `queued`). Does not watch it. */
  enqueue<N extends J['name']>(name: N, data: JobNamed<J, N>['data']): Promise<{ jobId: string }> {
    return this.invoke('enqueue', name, data);
  }

  /** Watches a job until `unwatch` (through reconnects); resolves with its snapshot. */
  async watch(jobId: string): Promise<JobSnapshot<J>> {
    let entry = this.#jobs.get(jobId);
    if (!entry) {
      entry = { ended: false, watchedIn: undefined };
      this.#jobs.set(jobId, entry);
    }
    const epoch = this.#epoch;
    try {
      const snapshot = (await this.invoke('watch', jobId)) as JobSnapshot<J>;
      if (this.#jobs.get(jobId) === entry) entry.watchedIn = epoch;
      this.#accept(snapshot, SNAPSHOT);
      return snapshot;
    } catch (err) {
      if (this.#refused(epoch) && this.#jobs.get(jobId) === entry) this.#drop(jobId);
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

  /** Gets the error when a re-watch is refused by the hub (the job is then dropped). */
  onWatchError(handler: (jobId: string, error: Error) => void): () => void {
    this.#watchErrorHandlers.add(handler);
    return () => this.#watchErrorHandlers.delete(handler);
  }

  /** A failure on the same, still connected connection is the hub's answer, not a lost connection. */
  #refused(epoch: number): boolean {
    return this.state === 'connected' && this.#epoch === epoch;
  }

  #drop(jobId: string): void {
    this.#jobs.delete(jobId);
    this.#filter.forget(jobId);
  }

  #accept(update: JobUpdate, info: UpdateInfo): void {
    const entry = this.#jobs.get(update.jobId);
    if (!entry || !this.#filter.accept(update)) return;
    if (TERMINAL.has(update.state)) entry.ended = true;
    for (const h of [...this.#updateHandlers]) {
      try {
        h(update as JobUpdate<J>, info);
      } catch (err) {
        console.error('@switchboard/client: a jobUpdated handler threw', err);
      }
    }
  }

  async #rewatch(epoch: number): Promise<void> {
    const due = [...this.#jobs].filter(([, j]) => !j.ended && j.watchedIn !== epoch);
    await Promise.all(
      due.map(async ([jobId, entry]) => {
        try {
          const snapshot = await this.invoke('watch', jobId);
          if (this.#jobs.get(jobId) !== entry) return;
          entry.watchedIn = epoch;
          this.#accept(snapshot, SNAPSHOT);
        } catch (err) {
          if (!this.#refused(epoch) || this.#jobs.get(jobId) !== entry) return; // down again: the next reconnect retries
          this.#drop(jobId);
          const error = err instanceof Error ? err : new Error(String(err));
          for (const h of [...this.#watchErrorHandlers]) h(jobId, error);
        }
      }),
    );
  }
}
