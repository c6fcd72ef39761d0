import type { JobListChange } from '@switchboard/contracts';
import type { ListScope } from '../job-list.js';

/** Where a list watcher's pushes go (the connection's `clients.caller` proxy). */
export interface ListWatcher {
  readonly scope: ListScope;
  push(change: JobListChange): Promise<void>;
}

export interface ListFeedSource {
  /** Bumped by every change of the list index (any process). */
  version(): Promise<string>;
  counts(scope: ListScope): Promise<JobListChange['counts']>;
}

/**
 * Pushes `jobListChanged` to this node's list watchers, coalesced: while anyone watches, the node
 * reads the index's change counter every `intervalMs` (100 ms: about 10 pushes per second at most,
 * whatever the job rate), and when it moved reads the counts once per scope and pushes them. One
 * small read per interval per node, nothing while nobody watches; a Redis failure skips a beat.
 */
export class ListFeed {
  readonly #watchers = new Map<string, ListWatcher>();
  #timer: NodeJS.Timeout | undefined;
  #seen: string | undefined;
  #busy = false;

  constructor(
    private readonly source: () => ListFeedSource | undefined,
    private readonly intervalMs = 100,
  ) {}

  add(connectionId: string, watcher: ListWatcher): void {
    this.#watchers.set(connectionId, watcher);
    this.#timer ??= setInterval(() => void this.#tick(), this.intervalMs);
    this.#timer.unref?.();
  }

  remove(connectionId: string): void {
    this.#watchers.delete(connectionId);
    if (this.#watchers.size || !this.#timer) return;
    clearInterval(this.#timer);
    this.#timer = undefined;
    this.#seen = undefined;
  }

  get size(): number {
    return this.#watchers.size;
  }

  async #tick(): Promise<void> {
    const source = this.source();
    if (this.#busy || !source) return;
    this.#busy = true;
    try {
      const version = await source.version();
      if (version === this.#seen) return;
      this.#seen = version;
      const at = Date.now();
      const byScope = new Map<string, Promise<JobListChange['counts']>>();
      const key = (s: ListScope) => (s.everyOwner ? '*' : `o:${s.owner ?? ''}`);
      await Promise.all(
        [...this.#watchers.values()].map(async (w) => {
          const k = key(w.scope);
          if (!byScope.has(k)) byScope.set(k, source.counts(w.scope));
          const counts = await byScope.get(k)!;
          await w.push({ counts, at }).catch(() => {});
        }),
      );
    } catch {
      this.#seen = undefined; // Redis failed: try again next beat
    } finally {
      this.#busy = false;
    }
  }
}
