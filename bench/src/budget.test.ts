import { describe, expect, it } from 'vitest';
import { searchBudget, type Probe } from './budget.js';

/** A stack whose p99 grows with the rate: within 20 ms up to `knee` deliveries/s. */
const stack = (knee: number) => async (rate: number): Promise<Probe> => ({ ratePerSecond: rate, p99Ms: rate <= knee ? 10 : 40, deliveredRatio: 1 });

describe('searchBudget', () => {
  it('narrows the bracket the measured phases give, by geometric means', async () => {
    const known = [
      { ratePerSecond: 25_000, p99Ms: 8, deliveredRatio: 1 },
      { ratePerSecond: 100_000, p99Ms: 30, deliveredRatio: 1 },
      { ratePerSecond: 200_000, p99Ms: 60, deliveredRatio: 1 },
    ];
    const r = await searchBudget(20, known, 400_000, 3, stack(70_000));
    // 25k..100k → 50k (within) → 70.7k (over) → 59.5k (within).
    expect(r.probes.slice(3).map((p) => Math.round(p.ratePerSecond))).toStrictEqual([50_000, 70_711, 59_460]);
    expect(Math.round(r.ratePerSecond)).toBe(59_460);
    expect(Math.round(r.overAtPerSecond)).toBe(70_711);
  });

  it('steps down by 4x while nothing is within the budget, and answers 0 if nothing ever is', async () => {
    const known = [{ ratePerSecond: 80_000, p99Ms: 50, deliveredRatio: 1 }];
    const r = await searchBudget(20, known, 160_000, 2, stack(0));
    expect(r.probes.slice(1).map((p) => p.ratePerSecond)).toStrictEqual([20_000, 5_000]);
    expect(r.ratePerSecond).toBe(0);
    expect(r.overAtPerSecond).toBe(5_000);
  });

  it('does not count a rate that lost messages as within the budget', async () => {
    const known = [{ ratePerSecond: 50_000, p99Ms: 5, deliveredRatio: 0.99 }];
    const r = await searchBudget(20, known, 100_000, 0, stack(1e9));
    expect(r.ratePerSecond).toBe(0);
    expect(r.overAtPerSecond).toBe(50_000);
  });

  it('stops probing once the bracket is within 10%', async () => {
    const known = [
      { ratePerSecond: 100_000, p99Ms: 10, deliveredRatio: 1 },
      { ratePerSecond: 105_000, p99Ms: 30, deliveredRatio: 1 },
    ];
    let probes = 0;
    const r = await searchBudget(20, known, 400_000, 3, async (rate) => (probes++, stack(0)(rate)));
    expect(probes).toBe(0);
    expect(r.ratePerSecond).toBe(100_000);
  });

  it('uses the maximum as the top when every measured rate was within the budget', async () => {
    const known = [{ ratePerSecond: 100_000, p99Ms: 10, deliveredRatio: 1 }];
    const r = await searchBudget(20, known, 400_000, 1, stack(1e9));
    expect(r.probes[1]!.ratePerSecond).toBe(200_000);
    expect(r.ratePerSecond).toBe(200_000);
    expect(r.overAtPerSecond).toBe(400_000);
  });
});
