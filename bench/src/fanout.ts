import { randomBytes } from 'node:crypto';
import { searchBudget, type BudgetResult } from './budget.js';
import { CpuWindow, DeliveryCounter, startStack, type Checkout, type FanoutEnv, type FanoutStack, type LimitStack, type RatePhase, type RoleCpu, type Source, type StackOptions } from './fanout-stack.js';
import { Role, sleep } from './proc.js';

export type { Checkout, FanoutEnv, FanoutStack, LimitStack, RatePhase, RoleCpu } from './fanout-stack.js';

export interface FanoutOptions extends StackOptions {
  /** Max-rate phase: warm-up, then measured window. */
  warmupMs: number;
  measureMs: number;
  /** Fixed-rate phases: a warm-up at the rate (not measured), then the measured window. */
  rateWarmupMs: number;
  rateMs: number;
  /**
   * Rate within a p99 budget (Switchboard and Socket.IO): `probes` more fixed-rate phases, each
   * `warmupMs` + `measureMs`, after the ones above (see budget.ts). Absent: no search.
   */
  budget?: { budgetMs: number; probes: number; warmupMs: number; measureMs: number };
  /** Deliveries in flight at most during the max-rate phase (closed loop). */
  window: number;
  /** Extra node options for the server processes (e.g. a CPU profiler preload). */
  serverNodeOptions?: string;
}

export interface FanoutResult {
  stack: LimitStack;
  /** Set when the Switchboard processes came from another checkout. */
  checkout?: string;
  /** Deliveries per second at the maximum rate (measured window). */
  maxDeliveredPerSecond: number;
  /** Messages published per second at the maximum rate (each delivered to clients/groups clients). */
  maxPublishedPerSecond: number;
  maxDeliveredRatio: number;
  maxCpu: RoleCpu;
  serverUsPerDelivery: number;
  clientUsPerDelivery: number;
  /** Latency at half this stack's own maximum. */
  halfLoad?: RatePhase;
  /** Latency at a quarter of its own maximum (Switchboard only: where its batching has more headroom). */
  quarterLoad?: RatePhase;
  /** Latency at a rate common to every stack of the run (half of Socket.IO's maximum). */
  commonLoad?: RatePhase;
  /** The highest rate seen with p99 within the budget (Switchboard and Socket.IO, when asked for). */
  budget?: BudgetResult;
}

/**
 * One fan-out scenario for one stack (fanout-stack.ts starts it). Phases: max rate (closed loop),
 * then fixed rates (open loop) for latency and loss.
 */
export async function runFanout(stack: FanoutStack, opts: FanoutOptions, env: FanoutEnv, commonRate?: number, checkout: Checkout = {}): Promise<FanoutResult> {
  const s = await startStack(stack, opts, env, checkout);
  try {
    const { sources, counter } = s;
    // Max rate: closed loop; measured after the warm-up.
    const maxRuns = sources.map((src) =>
      src.role
        .request<{ sent: number }>('max', { durationMs: opts.warmupMs + opts.measureMs, window: opts.window * (src.lanes.length / 2), perMessage: src.perMessage })
        .then((r) => (src.sent += r.sent)),
    );
    await sleep(opts.warmupMs);
    const d0 = counter.total();
    const t0 = performance.now();
    const cpu = new CpuWindow(s.cpuGroups);
    await sleep(opts.measureMs);
    const d1 = counter.total();
    const wall = (performance.now() - t0) / 1000;
    const maxCpu = s.toCpu(cpu.end());
    await Promise.all(maxRuns);
    await s.drain();
    const maxDeliveredPerSecond = (d1 - d0) / wall;
    const deliveries = d1 - d0;
    const result: FanoutResult = {
      stack,
      ...(checkout.label ? { checkout: checkout.label } : {}),
      maxDeliveredPerSecond,
      maxPublishedPerSecond: maxDeliveredPerSecond / s.perGroup,
      maxDeliveredRatio: counter.total() / s.expected(),
      maxCpu,
      serverUsPerDelivery: ((maxCpu.servers / 100) * wall * 1e6) / deliveries,
      clientUsPerDelivery: ((maxCpu.clients / 100) * wall * 1e6) / deliveries,
    };
    const ratePhase = (rate: number, warmupMs = opts.rateWarmupMs, measureMs = opts.rateMs) => s.ratePhase(rate, warmupMs, measureMs);
    result.halfLoad = await ratePhase(maxDeliveredPerSecond / 2);
    if (stack.startsWith('switchboard')) result.quarterLoad = await ratePhase(maxDeliveredPerSecond / 4);
    if (commonRate !== undefined) result.commonLoad = await ratePhase(commonRate);
    if (opts.budget && stack !== 'raw-ws') {
      const { budgetMs, probes, warmupMs, measureMs } = opts.budget;
      const asProbe = (p: RatePhase) => ({ ratePerSecond: p.targetPerSecond, p99Ms: p.p99Ms, deliveredRatio: p.deliveredRatio });
      const known = [result.halfLoad, result.quarterLoad, result.commonLoad].filter((p): p is RatePhase => p !== undefined).map(asProbe);
      result.budget = await searchBudget(budgetMs, known, maxDeliveredPerSecond, probes, async (rate) => asProbe(await ratePhase(rate, warmupMs, measureMs)));
    }
    return result;
  } finally {
    await s.close();
  }
}

/**
 * The Redis limit: one publisher (auto-pipelined PUBLISH of an envelope-sized payload) and 2
 * subscriber processes, as 2 hub nodes would subscribe; closed loop like the fan-out max phase.
 */
export async function runRedisLimit(opts: FanoutOptions, env: FanoutEnv, payloadBytes: number): Promise<FanoutResult> {
  const prefix = `benchlimit${randomBytes(3).toString('hex')}:`;
  const roles: Role[] = [];
  try {
    const subs = [0, 1].map((lane) => Role.fork('redis-subscriber', { REDIS_URL: env.redisUrl, REDIS_PREFIX: prefix, LANE: String(lane) }));
    roles.push(...subs);
    await Promise.all(subs.map((s) => s.request('start')));
    const publisher = Role.fork('redis-publisher', { REDIS_URL: env.redisUrl, REDIS_PREFIX: prefix, PAYLOAD_BYTES: String(payloadBytes) });
    roles.push(publisher);
    const source: Source = { role: publisher, lanes: [0, 1], perMessage: 2, sent: 0 };
    const counter = new DeliveryCounter([source]);
    for (const s of subs) counter.attach(s);
    await sleep(200);
    const run = publisher.request<{ sent: number }>('max', { durationMs: opts.warmupMs + opts.measureMs, window: opts.window, perMessage: 2 }).then((r) => (source.sent += r.sent));
    await sleep(opts.warmupMs);
    const d0 = counter.total();
    const t0 = performance.now();
    const cpu = new CpuWindow([subs.map((s) => s.pid), [], [publisher.pid], [env.redisPid]]);
    await sleep(opts.measureMs);
    const d1 = counter.total();
    const wall = (performance.now() - t0) / 1000;
    const c = cpu.end();
    await run;
    const deadline = performance.now() + 5000;
    while (counter.total() < source.sent * 2 && performance.now() < deadline) await sleep(20);
    const rate = (d1 - d0) / wall;
    return {
      stack: 'redis',
      maxDeliveredPerSecond: rate,
      maxPublishedPerSecond: rate / 2,
      maxDeliveredRatio: counter.total() / (source.sent * 2),
      maxCpu: { servers: c[0]!, clients: 0, publisher: c[2]!, redis: c[3]! },
      serverUsPerDelivery: Number.NaN,
      clientUsPerDelivery: ((c[0]! / 100) * wall * 1e6) / (d1 - d0),
    };
  } finally {
    await Promise.allSettled(roles.map((r) => r.stop()));
  }
}
