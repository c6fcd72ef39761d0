import { LISTED_JOB_STATES, type JobState, type ListedJobState } from '@switchboard/contracts';

/** The operator view's state filter: one listed state, or every state. */
export type StateFilter = ListedJobState | 'all';

/** The tabs in order; `queued` reads "Waiting", as in BullMQ and the system panel. */
export const STATE_TABS: readonly StateFilter[] = ['all', ...LISTED_JOB_STATES];

export function stateLabel(s: StateFilter | JobState): string {
  if (s === 'queued') return 'Waiting';
  if (s === 'all') return 'All';
  return s[0]!.toUpperCase() + s.slice(1);
}

/** The count a tab shows: the state's, or the sum for "All". */
export function tabCount(counts: Readonly<Partial<Record<ListedJobState, number>>> | undefined, tab: StateFilter): number | undefined {
  if (!counts) return undefined;
  if (tab !== 'all') return counts[tab];
  return LISTED_JOB_STATES.reduce((sum, s) => sum + (counts[s] ?? 0), 0);
}

export type RowAction = 'retry' | 'cancel' | 'remove';

/** What an operator may do with a job in `state`: retry a failed one, cancel one that has not ended, remove a finished one. */
export function rowActions(state: JobState): RowAction[] {
  switch (state) {
    case 'failed':
      return ['retry', 'remove'];
    case 'queued':
    case 'delayed':
    case 'active':
      return ['cancel'];
    case 'completed':
    case 'cancelled':
      return ['remove'];
    default:
      return [];
  }
}

const pad = (n: number) => String(n).padStart(2, '0');

/** "14:03:05" today, "2025-03-01 14:03" on another day (local time). */
export function formatWhen(ms: number | undefined, now: number): string {
  if (ms === undefined || !Number.isFinite(ms)) return '–';
  const d = new Date(ms);
  const today = new Date(now);
  const time = `${pad(d.getHours())}:${pad(d.getMinutes())}`;
  if (d.toDateString() === today.toDateString()) return `${time}:${pad(d.getSeconds())}`;
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${time}`;
}

/** "in 3 s", "in 2 min", "in 1 h 05 min"; "now" once due. */
export function formatIn(dueAt: number, now: number): string {
  const s = Math.ceil((dueAt - now) / 1000);
  if (s <= 0) return 'now';
  if (s < 60) return `in ${s} s`;
  const m = Math.round(s / 60);
  if (m < 60) return `in ${m} min`;
  return `in ${Math.floor(m / 60)} h ${pad(m % 60)} min`;
}

/** "due 14:03:07 (in 2 s)" for a delayed job. */
export function dueText(dueAt: number, now: number): string {
  return `due ${formatWhen(dueAt, now)} (${formatIn(dueAt, now)})`;
}

/**
 * Cursor paging, newest first: page 0 has no cursor, each "Older" goes to the `nextCursor` of the
 * page shown, "Newer" goes back. The shown page is re-read with its own cursor.
 */
export class Pager {
  #cursors: (string | undefined)[] = [undefined];

  get cursor(): string | undefined {
    return this.#cursors[this.#cursors.length - 1];
  }

  /** 0 for the newest page. */
  get index(): number {
    return this.#cursors.length - 1;
  }

  get hasNewer(): boolean {
    return this.#cursors.length > 1;
  }

  older(nextCursor: string): void {
    this.#cursors.push(nextCursor);
  }

  newer(): void {
    if (this.#cursors.length > 1) this.#cursors.pop();
  }

  reset(): void {
    this.#cursors = [undefined];
  }
}
