/**
 * Rate within a latency budget: the highest fixed rate (deliveries per second) at which a stack
 * kept its p99 publish-to-receive latency within `budgetMs` and lost nothing. This compares the
 * stacks at the same latency, where "half of each one's maximum" compares them at different
 * loads (Switchboard's half is 6-8x Socket.IO's).
 *
 * Search: the fixed-rate phases already measured bracket the answer (the highest rate within the
 * budget, the lowest rate over it above that); each probe then tries the geometric mean of the
 * bracket and narrows it. p99 is noisy, so the result is what the probes saw, not a proof that
 * every lower rate keeps the budget; the probes are reported with it.
 */
export interface Probe {
  ratePerSecond: number;
  p99Ms: number;
  deliveredRatio: number;
}

export interface BudgetResult {
  budgetMs: number;
  /** Highest rate seen within the budget; 0 when no rate tried was. */
  ratePerSecond: number;
  /** Lowest rate seen over the budget above that (the bracket's top). */
  overAtPerSecond: number;
  /** Every rate considered, the phases measured before the search included, in the order tried. */
  probes: Probe[];
}

const within = (p: Probe, budgetMs: number) => p.p99Ms <= budgetMs && p.deliveredRatio >= 1;

/**
 * `known`: phases already measured; `maxPerSecond`: the stack's maximum (over the budget by
 * construction: the closed loop queues); `probe(rate)`: measures one fixed-rate phase.
 */
export async function searchBudget(
  budgetMs: number,
  known: Probe[],
  maxPerSecond: number,
  probes: number,
  probe: (ratePerSecond: number) => Promise<Probe>,
): Promise<BudgetResult> {
  const tried = [...known];
  const bracket = () => {
    const lo = Math.max(0, ...tried.filter((p) => within(p, budgetMs)).map((p) => p.ratePerSecond));
    const hi = Math.min(maxPerSecond, ...tried.filter((p) => !within(p, budgetMs) && p.ratePerSecond > lo).map((p) => p.ratePerSecond));
    return { lo, hi };
  };
  for (let i = 0; i < probes; i++) {
    const { lo, hi } = bracket();
    if (lo > 0 && hi / lo < 1.1) break;
    // Nothing within the budget yet: step down by 4x from the lowest rate over it.
    tried.push(await probe(lo > 0 ? Math.sqrt(lo * hi) : hi / 4));
  }
  const { lo, hi } = bracket();
  return { budgetMs, ratePerSecond: lo, overAtPerSecond: hi, probes: tried };
}
