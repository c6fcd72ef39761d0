import { startStack, type Checkout, type FanoutEnv, type FanoutStack, type RatePhase } from './fanout-stack.js';

/**
 * Real time at a moderate rate (issue 17): the load a real-time user mostly lives at, where
 * nothing needs batching. Each point is a fresh stack with C clients over the 2 nodes in 10
 * groups of C/10, and one fixed rate (20,000 deliveries/s: at C = 5,000, 40 messages a second
 * each to 500 clients), measured after a warm-up: p50/p99 publish → receive, loss, CPU. For
 * Switchboard, the hub nodes' own histogram of publish → arrival (the backplane's part, from
 * GET /metrics) splits the latency into the hop through Redis and the rest (arrival → write →
 * receive). The raw `ws` groups limit runs the same points: no Redis, no publisher process, one
 * pre-serialized frame per delivery.
 */

export interface ModerateOptions {
  /** Client counts, one point each. */
  clients: number[];
  groups: number;
  clientProcesses: number;
  /** Deliveries per second offered. */
  ratePerSecond: number;
  warmupMs: number;
  measureMs: number;
  stacks: FanoutStack[];
  serverNodeOptions?: string;
}

/** Percentiles of the hub nodes' publish → arrival delay over the measured window (Prometheus buckets, interpolated). */
export interface ArrivalSplit {
  p50Ms: number;
  p99Ms: number;
  count: number;
}

export interface ModeratePoint {
  stack: FanoutStack;
  /** Set when the Switchboard processes came from another checkout. */
  checkout?: string;
  clients: number;
  phase: RatePhase;
  /** Switchboard: publish → arrival at the hub nodes. */
  arrival?: ArrivalSplit;
}

export async function runModerate(opts: ModerateOptions, env: FanoutEnv, log: (s: string) => void, checkout: Checkout = {}, stacks = opts.stacks): Promise<ModeratePoint[]> {
  const points: ModeratePoint[] = [];
  for (const clients of opts.clients) {
    for (const stack of stacks) {
      log(`moderate rate, ${stack}${checkout.label ? ` (${checkout.label})` : ''}, ${clients} clients`);
      const s = await startStack(stack, { clients, groups: opts.groups, clientProcesses: opts.clientProcesses, serverNodeOptions: opts.serverNodeOptions }, env, checkout);
      try {
        const isHub = stack.startsWith('switchboard');
        let before: Buckets | undefined;
        let after: Buckets | undefined;
        const hooks = isHub
          ? { begin: async () => void (before = await scrapeDelay(s.urls)), end: async () => void (after = await scrapeDelay(s.urls)) }
          : undefined;
        const phase = await s.ratePhase(opts.ratePerSecond, opts.warmupMs, opts.measureMs, hooks);
        const point: ModeratePoint = { stack, clients, phase };
        if (checkout.label) point.checkout = checkout.label;
        if (before && after) point.arrival = split(before, after);
        points.push(point);
      } finally {
        await s.close();
      }
    }
  }
  return points;
}

/** Cumulative bucket counts of `switchboard_backplane_delay_seconds` summed over the nodes, by upper bound (s). */
type Buckets = Map<number, number>;

async function scrapeDelay(urls: string[]): Promise<Buckets | undefined> {
  const sum: Buckets = new Map();
  try {
    for (const url of urls) {
      const text = await (await fetch(`${url}/metrics`, { signal: AbortSignal.timeout(2000) })).text();
      for (const m of text.matchAll(/^switchboard_backplane_delay_seconds_bucket\{[^}]*le="([^"]+)"[^}]*\} (\d+)/gm)) {
        const le = m[1] === '+Inf' ? Number.POSITIVE_INFINITY : Number(m[1]);
        sum.set(le, (sum.get(le) ?? 0) + Number(m[2]));
      }
    }
  } catch {
    return undefined; // no split in the report rather than a failed run
  }
  return sum;
}

/** Percentiles of the window's delays from two cumulative bucket readings (linear within a bucket). */
export function split(before: Buckets, after: Buckets): ArrivalSplit {
  const bounds = [...after.keys()].sort((a, b) => a - b);
  const counts = bounds.map((le) => (after.get(le) ?? 0) - (before.get(le) ?? 0));
  const total = counts[counts.length - 1] ?? 0;
  const pct = (p: number) => {
    if (!total) return Number.NaN;
    const want = (p / 100) * total;
    let lower = 0;
    let below = 0;
    for (let i = 0; i < bounds.length; i++) {
      const le = bounds[i]!;
      if (counts[i]! >= want) {
        if (!Number.isFinite(le)) return lower * 1000;
        const inBucket = counts[i]! - below;
        return (lower + (inBucket ? ((want - below) / inBucket) * (le - lower) : 0)) * 1000;
      }
      lower = le;
      below = counts[i]!;
    }
    return lower * 1000;
  };
  return { p50Ms: pct(50), p99Ms: pct(99), count: total };
}
