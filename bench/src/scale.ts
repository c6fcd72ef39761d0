import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startRedis } from '@switchboard/test/support/redis';
import { Histogram } from './histogram.js';
import { settled, warmConnections, type Reading } from './idle.js';
import { Role, benchHubEnv, cpuSeconds, loadAverage, redisPid, rssBytes, sleep } from './proc.js';
import { fdLimit, hubMetrics, loopDelay, machineCpu, openFds, startScaleHub, type LoopDelay, type ScaleHub } from './scale-hub.js';

/** Latency of every 4th delivery of each connection, as in the fan-out scenario. */
const LATENCY_SAMPLE_EVERY = 4;

export interface ScaleOptions {
  /** Connections per hub node asked for; capped by what the hub's RLIMIT_NOFILE allows. */
  targetPerNode: number;
  /** Connections per group (each gets one tick a second). */
  groupSize: number;
  /** Publishing before the measured window (not measured), then the window. */
  warmupMs: number;
  measureMs: number;
  /** Pause before each memory reading (idle.ts `settled`). */
  settleMs: number;
  /** Connections per load-client process at most (also kept under the process's own fd limit). */
  perClientProcess: number;
  /** Connections per source address (127.0.<nodes>.<i>) at most. */
  perSourceAddress: number;
  /** File descriptors of each hub kept free of load connections: probes, Redis reconnects, /metrics. */
  fdHeadroom: number;
  /** Handshakes in flight per load-client process. */
  concurrency: number;
}

export interface ProbeSummary {
  count: number;
  failures: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  firstError: string | null;
}
type ProbePhase = {
  healthz: ProbeSummary;
  negotiate: ProbeSummary;
  connect: ProbeSummary;
  skipped: number;
  /** The probe process's own event-loop delay (ms beyond its 10 ms timer): a nearly idle process on the same cores. */
  loopDelay: { p50: number; p99: number; max: number };
};

export interface ScaleResult {
  nodes: number;
  /** Per hub node: asked for, the cap its fd limit allows, what was used. */
  perNode: { target: number; cap: number; used: number };
  /** RLIMIT_NOFILE of the hubs (after the raise) and of the load clients; fds a hub held before any load connection. */
  fdLimit: { hubSoft: number; hubHard: number; hubFdsAtStart: number[]; clientSoft: number };
  /** Set when the fd limit, not the target, decided the connections. */
  limitedBy: string | null;
  setup: { groups: number; groupSize: number; clientProcesses: number; sourceAddresses: string[]; warmConnections: number; measureSeconds: number };
  connections: {
    target: number;
    /** Open at the load clients at the end of the measured window. */
    reached: number;
    /** switchboard_connections{hub="bench"} summed over the hubs' /metrics, after connecting and at the end. */
    hubCountAfterConnect: number;
    hubCountAtEnd: number;
    failed: number;
    firstError: string | null;
    /** Closed by anything but the benchmark. */
    unexpectedCloses: number;
    /** The main batch (after the warm ones): seconds, and connections per second. */
    connectSeconds: number;
    connectPerSecond: number;
    /** Hub CPU per connection opened in the main batch, µs (summed over the hubs). */
    hubCpuUsPerConnect: number;
  };
  memory: {
    /** Per hub: RSS before (warm connections) and after, after a full GC. */
    rssBeforeBytes: number[];
    rssAfterBytes: number[];
    /** Σ RSS growth / Σ connections added. */
    rssBytesPerConnection: number;
    heapBytesPerConnection: number;
    /** RSS of each hub at the end of the measured window (no forced GC). */
    rssAtEndBytes: number[];
  };
  delivery: { sent: number; expected: number; delivered: number; ratio: number; perSecondInWindow: number; publishFailures: number };
  latency: { p50Ms: number; p99Ms: number; p999Ms: number; maxMs: number; samples: number };
  /**
   * CPU during the measured window, % of one core (hubs: each); `others`: the machine's busy time
   * less all of the above (other work on the shared cores); `steal`: taken by the hypervisor.
   */
  cpu: { hubs: number[]; clients: number; publisher: number; redis: number; probe: number; others: number; steal: number };
  loopDelay: { connect: (LoopDelay | null)[]; measure: (LoopDelay | null)[] };
  probes: { connect: ProbePhase; measure: ProbePhase };
  /** The machine's load average (1 min) when the scenario started and ended: other work on the shared cores shows here. */
  load: { before: number; after: number };
  durationSeconds: number;
}

type Target = { url: string; lane: number; group: string; localAddress: string };
type ConnectAnswer = { connected: number; failed: number[]; firstError: string | null };

const cpuOf = (pids: number[]) => pids.reduce((s, p) => s + cpuSeconds(p), 0);

/**
 * The scale scenario with `nodes` hub nodes (bench/README.md, "Scale"): as many connections per
 * node as asked for and its fd limit allows, through the real WebSocket upgrade, SignalR handshake
 * and JoinGroup, in groups of `groupSize`, from several load-client processes and source
 * addresses; one tick a second to every connection through the hub context; probes throughout.
 */
export async function runScale(nodes: number, opts: ScaleOptions, log: (s: string) => void): Promise<ScaleResult> {
  const started = performance.now();
  const loadBefore = loadAverage();
  const redis = await startRedis();
  const dir = mkdtempSync(join(tmpdir(), 'sb-bench-scale-'));
  const hubs: ScaleHub[] = [];
  const clients: Role[] = [];
  const roles: Role[] = [];
  try {
    const prefix = `benchscale${randomBytes(3).toString('hex')}:`;
    const files = Array.from({ length: nodes }, (_, i) => ({ memory: join(dir, `memory-${i}.json`), eld: join(dir, `eld-${i}.json`) }));
    const hubEnv = benchHubEnv(redis.url, prefix, { BENCH_HUB: '1' });
    hubs.push(...(await Promise.all(files.map((f) => startScaleHub({ ...hubEnv, BENCH_MEMORY_FILE: f.memory, BENCH_ELD_FILE: f.eld })))));
    await sleep(500); // Redis connections up
    const pids = hubs.map((h) => h.pid);

    // How many connections the hubs' fd limit allows.
    const limits = pids.map((p) => fdLimit(p));
    const hubSoft = Math.min(...limits.map((l) => l.soft));
    const hubHard = Math.min(...limits.map((l) => l.hard));
    const fdsAtStart = pids.map(openFds);
    const cap = Math.floor((hubSoft - Math.max(...fdsAtStart) - opts.fdHeadroom) / opts.groupSize) * opts.groupSize;
    if (cap <= 0) throw new Error(`a hub may open ${hubSoft} files: no room for connections`);
    const perNode = Math.min(opts.targetPerNode, cap);
    const limitedBy =
      perNode < opts.targetPerNode
        ? `RLIMIT_NOFILE = ${hubSoft.toLocaleString('en-US')} per process${hubSoft === hubHard ? ' (hard)' : ` (soft; hard ${hubHard.toLocaleString('en-US')})`}`
        : null;
    const total = perNode * nodes;
    const groups = total / opts.groupSize;
    const clientSoft = fdLimit('self').soft;
    const perProcess = Math.min(opts.perClientProcess, clientSoft - 200);
    const clientProcesses = Math.max(2, Math.ceil(total / perProcess));
    const addresses = Array.from({ length: Math.max(1, Math.ceil(total / opts.perSourceAddress)) }, (_, i) => `127.0.${nodes}.${i + 1}`);
    log(
      `scale, ${nodes} node(s): target ${(opts.targetPerNode * nodes).toLocaleString('en-US')}, using ${total.toLocaleString('en-US')}` +
        (limitedBy ? `, limited by ${limitedBy} (${cap.toLocaleString('en-US')} per node after ${Math.max(...fdsAtStart)} fds in use and ${opts.fdHeadroom} kept free)` : '') +
        `; ${groups} groups, ${clientProcesses} client processes, source addresses ${addresses[0]}..${addresses[addresses.length - 1]}`,
    );

    // Connection j: group j % G, hub ⌊j / G⌋ % nodes (each group spread over the nodes), process j % K.
    const warm = warmConnections(total);
    const target = (j: number): Target => ({ url: hubs[Math.floor(j / groups) % nodes]!.url, lane: Math.floor(j / groups) % nodes, group: `g${j % groups}`, localAddress: addresses[j % addresses.length]! });
    const members = new Map<string, number>();
    const perHubAdded = new Array<number>(nodes).fill(0);
    let failed = 0;
    let firstError: string | null = null;
    const counts = new Map<Role, number[]>();
    for (let k = 0; k < clientProcesses; k++) {
      const role = Role.fork('load-client');
      role.onEvent((e) => e.ev === 'count' && counts.set(role, e['counts'] as number[]));
      clients.push(role);
    }
    const delivered = () => [...counts.values()].reduce((s, c) => s + c.reduce((a, b) => a + b, 0), 0);
    const connect = async (from: number, to: number, countAdded: boolean) => {
      const batches = clients.map((): Target[] => []);
      for (let j = from; j < to; j++) batches[j % clientProcesses]!.push(target(j));
      const answers = await Promise.all(
        clients.map((c, k) => c.request<ConnectAnswer>('connect', { kind: 'sb-json', targets: batches[k], concurrency: opts.concurrency, sampleEvery: LATENCY_SAMPLE_EVERY, tolerate: true }, 600_000)),
      );
      answers.forEach((a, k) => {
        const bad = new Set(a.failed);
        failed += bad.size;
        firstError ??= a.firstError;
        batches[k]!.forEach((t, i) => {
          if (bad.has(i)) return;
          members.set(t.group, (members.get(t.group) ?? 0) + 1);
          if (countAdded) perHubAdded[t.lane]!++;
        });
      });
    };

    const probe = Role.fork('scale-probe');
    roles.push(probe);
    await probe.request('start', { urls: hubs.map((h) => h.url), phase: 'connect' });
    await Promise.all(pids.map((p, i) => loopDelay(p, files[i]!.eld)));
    log(`scale, ${nodes} node(s): ${warm.toLocaleString('en-US')} warm connections`);
    await connect(0, warm, false);
    const before: Reading[] = await Promise.all(pids.map((p, i) => settled(p, files[i]!.memory, opts.settleMs)));
    log(`scale, ${nodes} node(s): ${(total - warm).toLocaleString('en-US')} more`);
    const cpu0 = cpuOf(pids);
    const t0 = performance.now();
    await connect(warm, total, true);
    const connectSeconds = (performance.now() - t0) / 1000;
    const connectCpu = cpuOf(pids) - cpu0;
    const eldConnect = await Promise.all(pids.map((p, i) => loopDelay(p, files[i]!.eld)));
    const after: Reading[] = await Promise.all(pids.map((p, i) => settled(p, files[i]!.memory, opts.settleMs)));
    const hubCountAfterConnect = (await Promise.all(hubs.map((h) => hubMetrics(h.url)))).reduce((s, m) => s + m.connections, 0);
    const added = total - warm;
    log(`scale, ${nodes} node(s): ${(total - failed).toLocaleString('en-US')} connected (${failed} failed) in ${connectSeconds.toFixed(1)} s + warm; hubs count ${hubCountAfterConnect}`);

    // One tick a second to every group, spread over the second (the publisher sends to group
    // seq % G, G messages a second).
    const publisher = Role.fork('sb-publisher', { REDIS_URL: redis.url, REDIS_PREFIX: prefix, GROUPS: String(groups) });
    roles.push(publisher);
    await sleep(300);
    await Promise.all(clients.map((c) => c.request('latency', { on: true })));
    const sending = publisher.request<{ sent: number }>('rate', { perSecond: groups, durationMs: opts.warmupMs + opts.measureMs }, opts.warmupMs + opts.measureMs + 60_000);
    await sleep(opts.warmupMs);
    log(`scale, ${nodes} node(s): measuring ${opts.measureMs / 1000} s`);
    await Promise.all(clients.map((c) => c.request('latency', { on: true }))); // clears the warm-up's samples
    await probe.request('phase', { phase: 'measure', clients: true });
    await Promise.all(pids.map((p, i) => loopDelay(p, files[i]!.eld)));
    const rPid = await redisPid(redis.port);
    const groupsCpu = [...pids.map((p) => [p]), clients.map((c) => c.pid), [publisher.pid], [rPid], [probe.pid]];
    const cpuStart = groupsCpu.map(cpuOf);
    const machine0 = machineCpu();
    const d0 = delivered();
    const w0 = performance.now();
    const { sent } = await sending;
    const wall = (performance.now() - w0) / 1000;
    const cpuPct = groupsCpu.map((g, i) => ((cpuOf(g) - cpuStart[i]!) / wall) * 100);
    const machine1 = machineCpu();
    const machineBusy = ((machine1.busy - machine0.busy) / wall) * 100;
    const d1 = delivered();
    const eldMeasure = await Promise.all(pids.map((p, i) => loopDelay(p, files[i]!.eld)));
    const probes = await probe.request<{ connect: ProbePhase; measure: ProbePhase }>('report', {}, 30_000);

    // Message i went to group i % G; each reached that group's connected members.
    let expected = 0;
    for (let g = 0; g < groups; g++) expected += (members.get(`g${g}`) ?? 0) * (Math.floor(sent / groups) + (g < sent % groups ? 1 : 0));
    const deadline = performance.now() + 10_000;
    while (delivered() < expected && performance.now() < deadline) await sleep(50);
    await sleep(200);
    const reports = await Promise.all(clients.map((c) => c.request<{ histogram: [number, number][]; unexpectedCloses: number; sockets: number }>('report')));
    const h = new Histogram();
    for (const r of reports) h.merge(Histogram.fromSparse(r.histogram).counts);
    const errors = await publisher.request<{ failures: number }>('errors');
    const hubCountAtEnd = (await Promise.all(hubs.map((x) => hubMetrics(x.url)))).reduce((s, m) => s + m.connections, 0);
    const unexpectedCloses = reports.reduce((s, r) => s + r.unexpectedCloses, 0);
    for (const x of hubs) if (x.exited()) throw new Error(`a hub node ${x.exited()} during the run. Output:\n${x.output()}`);

    const sum = (a: number[]) => a.reduce((s, v) => s + v, 0);
    const addedSum = sum(perHubAdded);
    return {
      nodes,
      perNode: { target: opts.targetPerNode, cap, used: perNode },
      fdLimit: { hubSoft, hubHard, hubFdsAtStart: fdsAtStart, clientSoft },
      limitedBy,
      setup: { groups, groupSize: opts.groupSize, clientProcesses, sourceAddresses: addresses, warmConnections: warm, measureSeconds: opts.measureMs / 1000 },
      connections: {
        target: opts.targetPerNode * nodes,
        reached: sum(reports.map((r) => r.sockets)) - unexpectedCloses,
        hubCountAfterConnect,
        hubCountAtEnd,
        failed,
        firstError,
        unexpectedCloses,
        connectSeconds,
        connectPerSecond: added / connectSeconds,
        hubCpuUsPerConnect: (connectCpu * 1e6) / Math.max(1, addedSum),
      },
      memory: {
        rssBeforeBytes: before.map((r) => r.rss),
        rssAfterBytes: after.map((r) => r.rss),
        rssBytesPerConnection: sum(after.map((r, i) => r.rss - before[i]!.rss)) / addedSum,
        heapBytesPerConnection: sum(after.map((r, i) => r.heap - before[i]!.heap)) / addedSum,
        rssAtEndBytes: pids.map(rssBytes),
      },
      delivery: { sent, expected, delivered: delivered(), ratio: expected ? delivered() / expected : Number.NaN, perSecondInWindow: (d1 - d0) / wall, publishFailures: errors.failures },
      latency: { p50Ms: h.percentile(50), p99Ms: h.percentile(99), p999Ms: h.percentile(99.9), maxMs: h.percentile(100), samples: h.total },
      cpu: { hubs: cpuPct.slice(0, nodes), clients: cpuPct[nodes]!, publisher: cpuPct[nodes + 1]!, redis: cpuPct[nodes + 2]!, probe: cpuPct[nodes + 3]!,
        others: machineBusy - cpuPct.reduce((a, b) => a + b, 0),
        steal: ((machine1.steal - machine0.steal) / wall) * 100,
      },
      loopDelay: { connect: eldConnect.map((d) => d ?? null), measure: eldMeasure.map((d) => d ?? null) },
      probes,
      load: { before: loadBefore, after: loadAverage() },
      durationSeconds: (performance.now() - started) / 1000,
    };
  } finally {
    await Promise.allSettled(clients.map((c) => c.request('close', {}, 30_000)));
    await Promise.allSettled(clients.map((c) => c.stop()));
    await Promise.allSettled(roles.map((r) => (r.name === 'sb-publisher' ? r.request('stop', {}, 5000) : undefined)));
    await Promise.allSettled([...roles.map((r) => r.stop()), ...hubs.map((x) => x.stop())]);
    await redis.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}
