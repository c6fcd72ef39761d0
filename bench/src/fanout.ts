import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { startNodeProcess, type StartedProcess } from '@switchboard/test/support/processes';
import { searchBudget, type BudgetResult } from './budget.js';
import { Histogram } from './histogram.js';
import { Role, cpuSeconds, sleep } from './proc.js';

/**
 * Latency is recorded for every 4th delivery of each connection (the same for every stack): more
 * than 100,000 samples a second at the fixed rates, and a quarter of the load generator's
 * timestamp parsing, which competes with the servers for the 2 cores.
 */
const LATENCY_SAMPLE_EVERY = 4;

export type FanoutStack = 'switchboard-json' | 'switchboard-msgpack' | 'socketio' | 'raw-ws';
export type LimitStack = FanoutStack | 'redis';

export interface FanoutOptions {
  /** Clients, spread over 2 server nodes, each in one of `groups` groups. */
  clients: number;
  groups: number;
  /** Client processes (the load generator). */
  clientProcesses: number;
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

/** Where Switchboard's hub nodes and publisher come from: this checkout, or another one (`--compare`). */
export interface Checkout {
  /** Absolute path of another checkout (built, with the bench hub); undefined = this one. */
  root?: string;
  /** Label in reports. */
  label?: string;
}

export interface RoleCpu {
  /** CPU used during the phase, in % of one core (the machine has 2). */
  servers: number;
  clients: number;
  publisher: number;
  redis: number;
}

export interface RatePhase {
  /** Deliveries per second asked for. */
  targetPerSecond: number;
  deliveredPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  p999Ms: number;
  maxMs: number;
  /** delivered / expected after draining (1 = no loss). */
  deliveredRatio: number;
  samples: number;
  cpu: RoleCpu;
  /** Server CPU per delivery, µs. */
  serverUsPerDelivery: number;
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

interface Source {
  role: Role;
  /** Lanes (server nodes) whose deliveries count for this source's window. */
  lanes: number[];
  /** Deliveries one message of this source makes. */
  perMessage: number;
  sent: number;
}

/** Sums the cumulative per-lane counts the client processes report, and feeds the sources' windows. */
class DeliveryCounter {
  private readonly byProcess = new Map<Role, number[]>();
  constructor(private readonly sources: Source[]) {}

  attach(role: Role): void {
    role.onEvent((e) => {
      if (e.ev !== 'count') return;
      this.byProcess.set(role, e['counts'] as number[]);
      for (const s of this.sources) s.role.event({ ev: 'delivered', n: this.total(s.lanes) });
    });
  }

  total(lanes: number[] = [0, 1]): number {
    let n = 0;
    for (const counts of this.byProcess.values()) for (const l of lanes) n += counts[l] ?? 0;
    return n;
  }
}

const cpuOf = (pids: number[]) => pids.reduce((s, p) => s + cpuSeconds(p), 0);

class CpuWindow {
  private readonly start: number[];
  private readonly t0 = performance.now();
  constructor(private readonly groups: number[][]) {
    this.start = groups.map(cpuOf);
  }
  /** CPU of each group since the start, in % of one core. */
  end(): number[] {
    const wall = (performance.now() - this.t0) / 1000;
    return this.groups.map((pids, i) => ((cpuOf(pids) - this.start[i]!) / wall) * 100);
  }
}

export interface FanoutEnv {
  redisUrl: string;
  redisPid: number;
}

/**
 * One fan-out scenario for one stack, every role in its own process: 2 server nodes (hub nodes /
 * Socket.IO nodes / raw `ws` servers), `clientProcesses` load-client processes, one publisher
 * (the servers themselves for raw `ws`), and the run's Redis. Phases: max rate (closed loop), then
 * fixed rates (open loop) for latency and loss.
 */
export async function runFanout(stack: FanoutStack, opts: FanoutOptions, env: FanoutEnv, commonRate?: number, checkout: Checkout = {}): Promise<FanoutResult> {
  const perGroup = opts.clients / opts.groups;
  const hubProcs: StartedProcess[] = [];
  const roles: Role[] = [];
  const clientRoles: Role[] = [];
  const sources: Source[] = [];
  const prefix = `bench${randomBytes(3).toString('hex')}:`;
  const groupsEnv = { REDIS_URL: env.redisUrl, REDIS_PREFIX: prefix, GROUPS: String(opts.groups) };
  try {
    // Servers.
    let urls: string[];
    let serverPids: number[];
    if (stack === 'switchboard-json' || stack === 'switchboard-msgpack') {
      const hubEnv = {
        REDIS_URL: env.redisUrl,
        REDIS_PREFIX: prefix,
        BENCH_HUB: '1',
        HUB_SECRET: randomBytes(32).toString('base64'),
        HOST: '127.0.0.1',
        PORT: '0',
        LOG_LEVEL: 'warn',
        NODE_OPTIONS: opts.serverNodeOptions ?? '',
        BENCH_PROFILE_NAME: `hub-${stack}`,
      };
      const hubScript = checkout.root ? join(checkout.root, 'apps/hub/dist/main.js') : 'apps/hub/dist/main.js';
      hubProcs.push(...(await Promise.all([0, 1].map(() => startNodeProcess(hubScript, hubEnv)))));
      urls = hubProcs.map((h) => h.url);
      serverPids = hubProcs.map((h) => h.child.pid!);
      const publisher = Role.fork('sb-publisher', groupsEnv, [], checkout.root);
      roles.push(publisher);
      sources.push({ role: publisher, lanes: [0, 1], perMessage: perGroup, sent: 0 });
    } else if (stack === 'socketio') {
      const servers = [0, 1].map(() => Role.fork('sio-server', { ...groupsEnv, BENCH_PROFILE_NAME: 'socketio' }, opts.serverNodeOptions ? opts.serverNodeOptions.split(' ') : []));
      roles.push(...servers);
      urls = (await Promise.all(servers.map((s) => s.request<{ url: string }>('start')))).map((r) => r.url);
      serverPids = servers.map((s) => s.pid);
      const publisher = Role.fork('sio-publisher', groupsEnv);
      roles.push(publisher);
      sources.push({ role: publisher, lanes: [0, 1], perMessage: perGroup, sent: 0 });
    } else {
      const servers = [0, 1].map(() => Role.fork('raw-server', groupsEnv));
      roles.push(...servers);
      urls = (await Promise.all(servers.map((s) => s.request<{ url: string }>('start')))).map((r) => r.url);
      serverPids = servers.map((s) => s.pid);
      servers.forEach((s, lane) => sources.push({ role: s, lanes: [lane], perMessage: perGroup / 2, sent: 0 }));
    }
    const publisherPids = stack === 'raw-ws' ? [] : [roles[roles.length - 1]!.pid];
    const counter = new DeliveryCounter(sources);

    // Load clients: client j is in group j % G, on node ⌊j / G⌋ % 2, in process j % K.
    const kind = stack === 'switchboard-json' ? 'sb-json' : stack === 'switchboard-msgpack' ? 'sb-msgpack' : stack === 'socketio' ? 'sio' : 'raw';
    const perProcess: { url: string; lane: number; group: string }[][] = Array.from({ length: opts.clientProcesses }, () => []);
    for (let j = 0; j < opts.clients; j++) {
      const lane = Math.floor(j / opts.groups) % 2;
      perProcess[j % opts.clientProcesses]!.push({ url: urls[lane]!, lane, group: `g${j % opts.groups}` });
    }
    for (let k = 0; k < opts.clientProcesses; k++) {
      const role = Role.fork('load-client');
      clientRoles.push(role);
      counter.attach(role);
    }
    await Promise.all(clientRoles.map((r, k) => r.request('connect', { kind, targets: perProcess[k], concurrency: 50, sampleEvery: LATENCY_SAMPLE_EVERY })));
    await sleep(300);

    const cpuGroups = [serverPids, clientRoles.map((r) => r.pid), publisherPids, [env.redisPid]];
    const toCpu = (v: number[]): RoleCpu => ({ servers: v[0]!, clients: v[1]!, publisher: v[2]!, redis: v[3]! });
    const expected = () => sources.reduce((s, src) => s + src.sent * src.perMessage, 0);
    const drain = async (timeoutMs = 5000) => {
      const deadline = performance.now() + timeoutMs;
      while (counter.total() < expected() && performance.now() < deadline) await sleep(20);
      await sleep(50);
    };

    // Max rate: closed loop; measured after the warm-up.
    const maxRuns = sources.map((s) =>
      s.role.request<{ sent: number }>('max', { durationMs: opts.warmupMs + opts.measureMs, window: opts.window * (s.lanes.length / 2), perMessage: s.perMessage }).then((r) => (s.sent += r.sent)),
    );
    await sleep(opts.warmupMs);
    const d0 = counter.total();
    const t0 = performance.now();
    const cpu = new CpuWindow(cpuGroups);
    await sleep(opts.measureMs);
    const d1 = counter.total();
    const wall = (performance.now() - t0) / 1000;
    const maxCpu = toCpu(cpu.end());
    await Promise.all(maxRuns);
    await drain();
    const maxDeliveredPerSecond = (d1 - d0) / wall;
    const deliveries = d1 - d0;
    const result: FanoutResult = {
      stack,
      ...(checkout.label ? { checkout: checkout.label } : {}),
      maxDeliveredPerSecond,
      maxPublishedPerSecond: maxDeliveredPerSecond / perGroup,
      maxDeliveredRatio: counter.total() / expected(),
      maxCpu,
      serverUsPerDelivery: ((maxCpu.servers / 100) * wall * 1e6) / deliveries,
      clientUsPerDelivery: ((maxCpu.clients / 100) * wall * 1e6) / deliveries,
    };

    // Fixed rates: open loop. The first `rateWarmupMs` at the new rate are not measured (the step
    // from the previous phase's rate, or from idle, is a transient of every stack); then latency
    // is recorded (every LATENCY_SAMPLE_EVERY-th delivery) for `rateMs`. Loss counts the whole
    // phase, warm-up included.
    const ratePhase = async (deliveriesPerSecond: number, warmupMs = opts.rateWarmupMs, measureMs = opts.rateMs): Promise<RatePhase> => {
      // Sampling costs the clients CPU: it starts with the warm-up, so the measured window does
      // not begin with a step in load (that step was itself a visible transient).
      await Promise.all(clientRoles.map((r) => r.request('latency', { on: true })));
      const before = counter.total();
      const expectedBefore = expected();
      const sending = Promise.all(
        sources.map((s) =>
          s.role
            .request<{ sent: number }>('rate', { perSecond: (deliveriesPerSecond * (s.lanes.length / 2)) / s.perMessage, durationMs: warmupMs + measureMs })
            .then((r) => (s.sent += r.sent)),
        ),
      );
      await sleep(warmupMs);
      // Clears the histogram: what the warm-up recorded is not counted.
      await Promise.all(clientRoles.map((r) => r.request('latency', { on: true })));
      const measuredFrom = counter.total();
      const c = new CpuWindow(cpuGroups);
      const t = performance.now();
      await sending;
      const phaseCpu = toCpu(c.end());
      const phaseWall = (performance.now() - t) / 1000;
      const deliveredInWindow = counter.total() - measuredFrom;
      await drain();
      const reports = await Promise.all(clientRoles.map((r) => r.request<{ histogram: [number, number][] }>('report')));
      await Promise.all(clientRoles.map((r) => r.request('latency', { on: false })));
      const h = new Histogram();
      for (const r of reports) h.merge(Histogram.fromSparse(r.histogram).counts);
      const delivered = counter.total() - before;
      const want = expected() - expectedBefore;
      return {
        targetPerSecond: deliveriesPerSecond,
        deliveredPerSecond: deliveredInWindow / phaseWall,
        p50Ms: h.percentile(50),
        p99Ms: h.percentile(99),
        p999Ms: h.percentile(99.9),
        maxMs: h.percentile(100),
        deliveredRatio: want ? delivered / want : Number.NaN,
        samples: h.total,
        cpu: phaseCpu,
        serverUsPerDelivery: ((phaseCpu.servers / 100) * phaseWall * 1e6) / Math.max(1, deliveredInWindow),
      };
    };
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
    await Promise.allSettled(clientRoles.map((r) => r.request('close', {}, 10_000)));
    await Promise.allSettled(clientRoles.map((r) => r.stop()));
    await Promise.allSettled(sources.map((s) => s.role.request('stop', {}, 5000)));
    await Promise.allSettled([...roles.map((r) => r.stop()), ...hubProcs.map((h) => h.stop())]);
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
