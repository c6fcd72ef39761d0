import { randomBytes } from 'node:crypto';
import { startNodeProcess, type StartedProcess } from '@switchboard/test/support/processes';
import { Histogram } from './histogram.js';
import { Role, benchHubEnv, cpuSeconds, hubScript, sleep } from './proc.js';

/**
 * One fan-out stack up and connected, shared by the fan-out scenario (fanout.ts) and the
 * moderate-rate one (moderate.ts): 2 server nodes (Switchboard hub nodes, Socket.IO nodes or plain
 * `ws` servers), a publisher (the servers themselves for raw `ws`), the load clients each in one
 * group, the delivery counter, and the fixed-rate phase (open loop, latency and loss). Every role
 * is its own process.
 */

/**
 * Latency is recorded for every 4th delivery of each connection (the same for every stack): more
 * than 100,000 samples a second at the fixed rates, and a quarter of the load generator's
 * timestamp parsing, which competes with the servers for the 2 cores.
 */
const LATENCY_SAMPLE_EVERY = 4;

export type FanoutStack = 'switchboard-json' | 'switchboard-msgpack' | 'socketio' | 'raw-ws';
export type LimitStack = FanoutStack | 'redis';

/** Where Switchboard's hub nodes and publisher come from: this checkout, or another one (`--compare`). */
export interface Checkout {
  /** Absolute path of another checkout (built, with the bench hub); undefined = this one. */
  root?: string;
  /** Label in reports. */
  label?: string;
}

export interface FanoutEnv {
  redisUrl: string;
  redisPid: number;
}

export interface StackOptions {
  /** Clients, spread over 2 server nodes, each in one of `groups` groups. */
  clients: number;
  groups: number;
  /** Client processes (the load generator). */
  clientProcesses: number;
  /** Extra node options for the server processes (e.g. a CPU profiler preload). */
  serverNodeOptions?: string;
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

export interface Source {
  role: Role;
  /** Lanes (server nodes) whose deliveries count for this source's window. */
  lanes: number[];
  /** Deliveries one message of this source makes. */
  perMessage: number;
  sent: number;
}

/** Sums the cumulative per-lane counts the client processes report, and feeds the sources' windows. */
export class DeliveryCounter {
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

/** CPU of groups of processes over a window, in % of one core. */
export class CpuWindow {
  private readonly start: number[];
  private readonly t0 = performance.now();
  constructor(private readonly groups: number[][]) {
    this.start = groups.map(cpuOf);
  }
  end(): number[] {
    const wall = (performance.now() - this.t0) / 1000;
    return this.groups.map((pids, i) => ((cpuOf(pids) - this.start[i]!) / wall) * 100);
  }
}

/** Called when a fixed-rate phase's measured window begins and ends (e.g. to read the hub nodes' metrics). */
export interface PhaseHooks {
  begin(): Promise<void>;
  end(): Promise<void>;
}

export interface RunningStack {
  readonly stack: FanoutStack;
  /** Clients per group (deliveries per message). */
  readonly perGroup: number;
  readonly sources: Source[];
  readonly counter: DeliveryCounter;
  /** The server nodes' base URLs (hub nodes for Switchboard). */
  readonly urls: string[];
  /** Servers, clients, publisher, Redis: the groups of pids whose CPU is reported. */
  readonly cpuGroups: number[][];
  toCpu(v: number[]): RoleCpu;
  /** Deliveries expected from everything sent so far. */
  expected(): number;
  /** Waits until everything sent was delivered, or `timeoutMs`. */
  drain(timeoutMs?: number): Promise<void>;
  /**
   * A fixed rate (open loop): `warmupMs` at the rate not measured (the step from the previous
   * rate, or from idle, is a transient of every stack), then latency recorded for `measureMs`.
   * Loss counts the whole phase, warm-up included.
   */
  ratePhase(deliveriesPerSecond: number, warmupMs: number, measureMs: number, hooks?: PhaseHooks): Promise<RatePhase>;
  close(): Promise<void>;
}

/** Starts `stack` with `opts.clients` connected clients; the caller must `close()` it. */
export async function startStack(stack: FanoutStack, opts: StackOptions, env: FanoutEnv, checkout: Checkout = {}): Promise<RunningStack> {
  const perGroup = opts.clients / opts.groups;
  const hubProcs: StartedProcess[] = [];
  const roles: Role[] = [];
  const clientRoles: Role[] = [];
  const sources: Source[] = [];
  const prefix = `bench${randomBytes(3).toString('hex')}:`;
  const groupsEnv = { REDIS_URL: env.redisUrl, REDIS_PREFIX: prefix, GROUPS: String(opts.groups) };
  const close = async () => {
    await Promise.allSettled(clientRoles.map((r) => r.request('close', {}, 10_000)));
    await Promise.allSettled(clientRoles.map((r) => r.stop()));
    await Promise.allSettled(sources.map((s) => s.role.request('stop', {}, 5000)));
    await Promise.allSettled([...roles.map((r) => r.stop()), ...hubProcs.map((h) => h.stop())]);
  };
  try {
    let urls: string[];
    let serverPids: number[];
    if (stack === 'switchboard-json' || stack === 'switchboard-msgpack') {
      const hubEnv = benchHubEnv(env.redisUrl, prefix, { BENCH_HUB: '1', NODE_OPTIONS: opts.serverNodeOptions ?? '', BENCH_PROFILE_NAME: `hub-${stack}` });
      hubProcs.push(...(await Promise.all([0, 1].map(() => startNodeProcess(hubScript(checkout.root), hubEnv)))));
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

    const ratePhase = async (deliveriesPerSecond: number, warmupMs: number, measureMs: number, hooks?: PhaseHooks): Promise<RatePhase> => {
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
      await hooks?.begin();
      const measuredFrom = counter.total();
      const c = new CpuWindow(cpuGroups);
      const t = performance.now();
      await sending;
      const phaseCpu = toCpu(c.end());
      const phaseWall = (performance.now() - t) / 1000;
      const deliveredInWindow = counter.total() - measuredFrom;
      await hooks?.end();
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
    return { stack, perGroup, sources, counter, urls, cpuGroups, toCpu, expected, drain, ratePhase, close };
  } catch (err) {
    await close();
    throw err;
  }
}
