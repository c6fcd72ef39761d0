/** The part of `localStorage` this uses (a fake in unit tests). */
export interface KeyValueStorage {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
}

const KEY = 'switchboard.watchedJobs';

/**
 * The ids of the jobs this browser watches, newest first, kept in localStorage so a reload watches
 * them again (the hub keeps a job's snapshot for 24 h after its last update). Holds at most `max`.
 * Storage that throws (private mode, quota) degrades to memory only.
 */
export class WatchedStore {
  #ids: string[];

  constructor(
    private readonly storage: KeyValueStorage | undefined,
    private readonly max = 50,
  ) {
    this.#ids = this.#load();
  }

  ids(): readonly string[] {
    return this.#ids;
  }

  add(id: string): void {
    this.#ids = [id, ...this.#ids.filter((x) => x !== id)].slice(0, this.max);
    this.#save();
  }

  remove(id: string): void {
    this.#ids = this.#ids.filter((x) => x !== id);
    this.#save();
  }

  #load(): string[] {
    try {
      const parsed: unknown = JSON.parse(this.storage?.getItem(KEY) ?? '[]');
      return Array.isArray(parsed) ? parsed.filter((x): x is string => typeof x === 'string' && x.length > 0 && x.length < 200).slice(0, this.max) : [];
    } catch {
      return [];
    }
  }

  #save(): void {
    try {
      this.storage?.setItem(KEY, JSON.stringify(this.#ids));
    } catch {
      // Not persisted; the list still works for this page's life.
    }
  }
}
