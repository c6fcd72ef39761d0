import { describe, expect, it, vi } from 'vitest';
import { PendingReplies, PendingSums } from './pending-replies.js';

describe('PendingSums (answers from every node that heard a request)', () => {
  it('sums the answers once as many arrived as the publish reached, whichever comes first', async () => {
    const sums = new PendingSums();
    const early = sums.open(1000, 'x');
    expect(sums.add(early.id, true, 2)).toBe(true); // an answer before the publish returned
    early.expect(2);
    expect(sums.add(early.id, true, 3)).toBe(true);
    await expect(early.result).resolves.toBe(5);

    const late = sums.open(1000, 'x');
    late.expect(1);
    sums.add(late.id, true, 4);
    await expect(late.result).resolves.toBe(4);
  });

  it('no receiver: 0 at once; a failed answer counts as answered with nothing', async () => {
    const sums = new PendingSums();
    const none = sums.open(1000, 'x');
    none.expect(0);
    await expect(none.result).resolves.toBe(0);
    const failed = sums.open(1000, 'x');
    failed.expect(2);
    sums.add(failed.id, false, 'node broke');
    sums.add(failed.id, true, 7);
    await expect(failed.result).resolves.toBe(7);
  });

  it('times out with SB_BACKPLANE_TIMEOUT saying how many answered', async () => {
    vi.useFakeTimers();
    try {
      const sums = new PendingSums();
      const r = sums.open(500, "counting the members of group 'g'");
      r.expect(3);
      sums.add(r.id, true, 1);
      vi.advanceTimersByTime(500);
      await expect(r.result).rejects.toMatchObject({ code: 'SB_BACKPLANE_TIMEOUT', message: expect.stringContaining("counting the members of group 'g' within 500 ms (1 of 3)") });
    } finally {
      vi.useRealTimers();
    }
  });

  it('claims its own ids only (n-prefixed), so replies to other requests reach PendingReplies', async () => {
    const sums = new PendingSums();
    const replies = new PendingReplies();
    const request = replies.open(1000, () => 'y timed out');
    expect(request.id).not.toMatch(/^n/);
    expect(sums.add(request.id, true, 1)).toBe(false);
    expect(sums.add('n999', true, 1)).toBe(true); // a late answer to a finished count: swallowed
    replies.settle(request.id, 'ok', undefined);
    await expect(request.result).resolves.toBe('ok');
  });
});
