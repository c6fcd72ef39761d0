import { describe, expect, it } from 'vitest';
import { Pager, STATE_TABS, dueText, formatIn, formatWhen, rowActions, stateLabel, tabCount } from './job-list-model.js';

describe('job list model', () => {
  it('tabs: every listed state, queued reads Waiting; All sums the counts', () => {
    expect(STATE_TABS.map(stateLabel)).toEqual(['All', 'Waiting', 'Delayed', 'Active', 'Completed', 'Failed', 'Cancelled']);
    const counts = { queued: 1, delayed: 2, active: 3, completed: 40, failed: 5, cancelled: 0 };
    expect(tabCount(counts, 'all')).toBe(51);
    expect(tabCount(counts, 'failed')).toBe(5);
    expect(tabCount(undefined, 'all')).toBeUndefined();
  });

  it('actions: retry a failed job, cancel one that has not ended, remove a finished one', () => {
    expect(rowActions('failed')).toEqual(['retry', 'remove']);
    for (const s of ['queued', 'delayed', 'active'] as const) expect(rowActions(s)).toEqual(['cancel']);
    for (const s of ['completed', 'cancelled'] as const) expect(rowActions(s)).toEqual(['remove']);
    expect(rowActions('lost')).toEqual([]);
  });

  it('times: today as hh:mm:ss, other days with the date; due in …', () => {
    const now = new Date(2025, 2, 1, 14, 3, 5).getTime();
    expect(formatWhen(now, now)).toBe('14:03:05');
    expect(formatWhen(new Date(2025, 1, 27, 9, 7).getTime(), now)).toBe('2025-02-27 09:07');
    expect(formatWhen(undefined, now)).toBe('–');
    expect([now + 1500, now - 10, now + 125_000, now + 3_900_000].map((d) => formatIn(d, now))).toEqual(['in 2 s', 'now', 'in 2 min', 'in 1 h 05 min']);
    expect(dueText(now + 2000, now)).toBe('due 14:03:07 (in 2 s)');
  });

  it('pager: Older follows nextCursor, Newer goes back, reset to the newest page', () => {
    const p = new Pager();
    expect([p.cursor, p.index, p.hasNewer]).toEqual([undefined, 0, false]);
    p.older('c1');
    p.older('c2');
    expect([p.cursor, p.index, p.hasNewer]).toEqual(['c2', 2, true]);
    p.newer();
    expect(p.cursor).toBe('c1');
    p.reset();
    expect([p.cursor, p.index]).toEqual([undefined, 0]);
    p.newer();
    expect(p.index).toBe(0);
  });
});
