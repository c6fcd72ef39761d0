import type { JobUpdate } from '@switchboard/contracts';

export const TERMINAL_STATES: ReadonlySet<string> = new Set(['completed', 'failed', 'cancelled', 'lost']);

export function isTerminal(u: Pick<JobUpdate, 'state'>): boolean {
  return TERMINAL_STATES.has(u.state);
}

/** 850 ms, 3.4 s, 2 min 05 s, 1 h 02 min. */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return '–';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  const s = ms / 1000;
  if (s < 60) return `${s.toFixed(1)} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ${String(Math.floor(s % 60)).padStart(2, '0')} s`;
  return `${Math.floor(m / 60)} h ${String(m % 60).padStart(2, '0')} min`;
}

/** How long the job has run: start to finish, or start to `now` while it runs; undefined before it starts. */
export function jobDuration(u: JobUpdate, now: number): number | undefined {
  if (u.startedAt === undefined) return undefined;
  const end = u.finishedAt ?? (isTerminal(u) ? u.updatedAt : now);
  return Math.max(0, end - u.startedAt);
}

/** A job result as text: a string as is, anything else as indented JSON. */
export function formatResult(result: unknown): string {
  return typeof result === 'string' ? result : JSON.stringify(result, null, 2);
}

/** Progress clamped to 0-100 and rounded to a whole percent. */
export function percent(progress: number): number {
  return Number.isFinite(progress) ? Math.min(100, Math.max(0, Math.round(progress))) : 0;
}

/** A short form of a job id for headings (the full id stays in a title and data attribute). */
export function shortId(id: string): string {
  return id.length > 10 ? id.slice(0, 8) : id;
}
