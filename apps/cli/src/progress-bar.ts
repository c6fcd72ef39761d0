import type { JobUpdate } from '@switchboard/contracts';

/** One line describing a job update: a bar, percent, state, stage and attempt. */
export function renderLine(u: JobUpdate, width = 30): string {
  const filled = Math.round((Math.max(0, Math.min(100, u.progress)) / 100) * width);
  const bar = `${'#'.repeat(filled)}${'-'.repeat(width - filled)}`;
  const parts = [`[${bar}]`, `${u.progress.toFixed(0).padStart(3)}%`, u.state];
  if (u.stage) parts.push(`stage ${u.stage}`);
  if (u.attempt > 1) parts.push(`attempt ${u.attempt}`);
  return parts.join(' ');
}

/** Keeps the newest update by `seq`; returns false for stale or duplicate ones. */
export class SeqFilter {
  private last = 0;
  accept(u: JobUpdate): boolean {
    if (u.seq <= this.last) return false;
    this.last = u.seq;
    return true;
  }
}
