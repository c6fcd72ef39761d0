import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { createRequire } from 'node:module';
import { encodeEnvelope } from '@switchboard/hub-server/backplane';
import { jsonHubProtocol, messagePackHubProtocol, MessageType, type InvocationMessage } from '@switchboard/protocol';
import { startRedis } from '@switchboard/test/support/redis';
import { runFanout, runRedisLimit, type FanoutOptions, type FanoutResult, type FanoutStack, type RatePhase } from './fanout.js';
import { runIdle, warmConnections, type IdleOptions, type IdleResult, type IdleStack } from './idle.js';
import { runJobsScenario, type JobsScenarioOptions, type JobsScenarioResult } from './jobs-scenario.js';
import { cpuSpeedMs, loadAverage, redisPid } from './proc.js';
import { PAD } from './roles/source.js';
import { median, round, spreadPercent } from './stats.js';

/**
 * `npm run bench` (full: 3 runs), `-- --quick` (1 smaller run), `-- --smoke` (about 20 s, what CI
 * runs so the benchmark cannot rot; no figure is judged). Options: `--runs=N`,
 * `--only=fanout,limits,idle,jobs`, `--profile` (hub and Socket.IO nodes write CPU profiles to
 * bench/results/profiles/), `--compare=<dir> [--compare-label=x]` (Switchboard from another built
 * checkout too, for before/after). Every role runs in its own process (bench/README.md). Writes
 * bench/results/latest.{json,md} (full, 3+ runs, all scenarios) or <mode>.{json,md}; exits 1 if a
 * scenario lost messages or delivered nothing.
 */
type Mode = 'full' | 'quick' | 'smoke';
const args = process.argv.slice(2);
const mode: Mode = args.includes('--smoke') ? 'smoke' : args.includes('--quick') ? 'quick' : 'full';
const arg = (name: string) => args.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
const runs = Number(arg('runs') ?? (mode === 'full' ? 3 : 1));
const only = new Set((arg('only') ?? 'fanout,limits,idle,jobs').split(','));
const profile = args.includes('--profile');
/** `--compare=<dir>`: also run Switchboard's fan-out and idle scenarios with hub nodes and publisher from another (built) checkout, in the same runs, for before/after figures. */
const compareRoot = arg('compare');
const compareLabel = arg('compare-label') ?? 'compare';

const CONFIG: Record<Mode, { fanout: FanoutOptions; idle: IdleOptions; jobs: JobsScenarioOptions }> = {
  full: {
    fanout: { clients: 1000, groups: 10, clientProcesses: 2, warmupMs: 1000, measureMs: 4000, rateWarmupMs: 1000, rateMs: 3000, window: 20_000, budget: { budgetMs: 20, probes: 2, warmupMs: 500, measureMs: 800 } },
    idle: { connections: 4000, groups: 10, clientProcesses: 2, settleMs: 700 },
    jobs: { jobs: 400, progressJobs: 4, watchersPerJob: 10, progressSeconds: 4 },
  },
  quick: {
    fanout: { clients: 1000, groups: 10, clientProcesses: 2, warmupMs: 400, measureMs: 1500, rateWarmupMs: 400, rateMs: 1000, window: 20_000, budget: { budgetMs: 20, probes: 1, warmupMs: 300, measureMs: 700 } },
    idle: { connections: 2500, groups: 10, clientProcesses: 2, settleMs: 400 },
    jobs: { jobs: 40, progressJobs: 2, watchersPerJob: 3, progressSeconds: 2 },
  },
  smoke: {
    fanout: { clients: 40, groups: 4, clientProcesses: 1, warmupMs: 100, measureMs: 300, rateWarmupMs: 100, rateMs: 300, window: 2000, budget: { budgetMs: 20, probes: 1, warmupMs: 100, measureMs: 200 } },
    idle: { connections: 100, groups: 4, clientProcesses: 1, settleMs: 200 },
    jobs: { jobs: 10, progressJobs: 1, watchersPerJob: 2, progressSeconds: 1 },
  },
};
const config = CONFIG[mode];
const profileDir = new URL('../results/profiles/', import.meta.url);
if (profile) {
  mkdirSync(profileDir, { recursive: true });
  config.fanout.serverNodeOptions = `--import=${new URL('./roles/cpu-profile.js', import.meta.url).href}`;
  process.env['BENCH_PROFILE_DIR'] = profileDir.pathname;
}

/** Size of the backplane envelope of one tick: the Redis limit publishes payloads this big. */
function envelopeBytes(): number {
  const msg: InvocationMessage = { type: MessageType.Invocation, target: 'tick', arguments: [{ t: 1e7 + 0.123456, s: 12345, p: PAD }] };
  const payloads = new Map([
    ['json', jsonHubProtocol.write(msg)],
    ['messagepack', messagePackHubProtocol.write(msg)],
  ]);
  return encodeEnvelope({ kind: 1, origin: 'x'.repeat(16), target: 1, name: 'g1', excluded: [], payloads }).length;
}
const tickJsonBytes = jsonHubProtocol.write({ type: MessageType.Invocation, target: 'tick', arguments: [{ t: 1e7 + 0.123456, s: 12345, p: PAD }] }).length;

const t0 = performance.now();
const log = (s: string) => process.stderr.write(`bench: [${((performance.now() - t0) / 1000).toFixed(1)} s] ${s}\n`);

interface CompareRun {
  fanout: Partial<Record<'switchboard-json' | 'switchboard-msgpack', FanoutResult>>;
  idle?: IdleResult;
}

interface Run {
  compare?: CompareRun;
  load: { before: number; after: number };
  /** `cpuSpeedMs()` at the start of the run (lower is faster). */
  cpuSpeedMs: number;
  fanout: Partial<Record<FanoutStack | 'redis', FanoutResult>>;
  idle: Partial<Record<IdleStack, IdleResult>>;
  jobs?: JobsScenarioResult;
}

async function oneRun(i: number): Promise<Run> {
  const run: Run = { load: { before: loadAverage(), after: Number.NaN }, cpuSpeedMs: cpuSpeedMs(), fanout: {}, idle: {} };
  const redis = await startRedis();
  try {
    const env = { redisUrl: redis.url, redisPid: await redisPid(redis.port) };
    if (only.has('fanout') || only.has('limits')) {
      log(`run ${i}: fan-out, Socket.IO`);
      const sio = await runFanout('socketio', config.fanout, env);
      run.fanout.socketio = sio;
      const common = sio.maxDeliveredPerSecond / 2;
      const stacks: FanoutStack[] = only.has('fanout') ? ['switchboard-json', 'switchboard-msgpack'] : [];
      if (only.has('limits')) stacks.unshift('raw-ws');
      for (const stack of stacks) {
        log(`run ${i}: fan-out, ${stack}`);
        run.fanout[stack] = await runFanout(stack, config.fanout, env, common);
      }
      if (compareRoot && only.has('fanout')) {
        run.compare ??= { fanout: {} };
        for (const stack of ['switchboard-json', 'switchboard-msgpack'] as const) {
          log(`run ${i}: fan-out, ${stack} from ${compareRoot} (${compareLabel})`);
          run.compare.fanout[stack] = await runFanout(stack, config.fanout, env, common, { root: compareRoot, label: compareLabel });
        }
      }
      if (only.has('limits')) {
        log(`run ${i}: Redis pub/sub limit`);
        run.fanout.redis = await runRedisLimit(config.fanout, env, envelopeBytes());
      }
    }
    if (only.has('idle')) {
      for (const stack of ['socketio', 'switchboard', 'raw-ws'] as const) {
        log(`run ${i}: idle connections, ${stack}`);
        run.idle[stack] = await runIdle(stack, config.idle, redis.url);
      }
      if (compareRoot) {
        log(`run ${i}: idle connections, switchboard from ${compareRoot} (${compareLabel})`);
        (run.compare ??= { fanout: {} }).idle = await runIdle('switchboard', config.idle, redis.url, { root: compareRoot, label: compareLabel });
      }
    }
  } finally {
    await redis.stop();
  }
  if (only.has('jobs')) {
    log(`run ${i}: jobs pipeline`);
    run.jobs = await runJobsScenario(config.jobs);
  }
  run.load.after = loadAverage();
  return run;
}

const started = performance.now();
const results: Run[] = [];
for (let i = 1; i <= runs; i++) results.push(await oneRun(i));

// ---- Aggregation ----
interface Figure {
  median: number;
  spreadPercent: number;
  runs: number[];
}
function figure(values: (number | undefined)[], digits = 1): Figure | undefined {
  const v = values.filter((x): x is number => x !== undefined && Number.isFinite(x));
  if (!v.length) return undefined;
  return { median: round(median(v), digits), spreadPercent: round(spreadPercent(v)), runs: v.map((x) => round(x, digits)) };
}
const fan = (stack: FanoutStack | 'redis', pick: (r: FanoutResult) => number | undefined, digits = 1) =>
  figure(results.map((r) => (r.fanout[stack] ? pick(r.fanout[stack]!) : undefined)), digits);
const phase = (p: RatePhase | undefined, pick: (p: RatePhase) => number) => (p ? pick(p) : undefined);
const ratio = (a: FanoutStack, b: FanoutStack | 'redis', pick: (r: FanoutResult) => number | undefined) =>
  figure(
    results.map((r) => {
      const x = r.fanout[a] ? pick(r.fanout[a]!) : undefined;
      const y = r.fanout[b] ? pick(r.fanout[b]!) : undefined;
      return x !== undefined && y !== undefined && y ? x / y : undefined;
    }),
    2,
  );

function pkgVersion(name: string, from = import.meta.url): string {
  try {
    const require = createRequire(from);
    return (JSON.parse(readFileSync(require.resolve(`${name}/package.json`), 'utf8')) as { version: string }).version;
  } catch {
    return '?';
  }
}
function redisVersion(): string {
  try {
    return /v=(\S+)/.exec(execFileSync('redis-server', ['--version'], { encoding: 'utf8' }))?.[1] ?? '?';
  } catch {
    return '?';
  }
}
const hubServerUrl = new URL('../../libs/hub-server/package.json', import.meta.url).href;

const fanoutStacks: FanoutStack[] = ['switchboard-json', 'switchboard-msgpack', 'socketio', 'raw-ws'];
const fanoutReport = Object.fromEntries(
  [...fanoutStacks, 'redis' as const]
    .filter((s) => results.some((r) => r.fanout[s]))
    .map((s) => [
      s,
      {
        maxDeliveredPerSecond: fan(s, (r) => r.maxDeliveredPerSecond, 0),
        maxPublishedPerSecond: fan(s, (r) => r.maxPublishedPerSecond, 0),
        maxDeliveredRatio: fan(s, (r) => r.maxDeliveredRatio, 4),
        serverUsPerDelivery: fan(s, (r) => r.serverUsPerDelivery, 2),
        clientUsPerDelivery: fan(s, (r) => r.clientUsPerDelivery, 2),
        cpuAtMax: {
          servers: fan(s, (r) => r.maxCpu.servers, 0),
          clients: fan(s, (r) => r.maxCpu.clients, 0),
          publisher: fan(s, (r) => r.maxCpu.publisher, 0),
          redis: fan(s, (r) => r.maxCpu.redis, 0),
        },
        halfLoad: {
          targetPerSecond: fan(s, (r) => phase(r.halfLoad, (p) => p.targetPerSecond), 0),
          p50Ms: fan(s, (r) => phase(r.halfLoad, (p) => p.p50Ms), 2),
          p99Ms: fan(s, (r) => phase(r.halfLoad, (p) => p.p99Ms), 2),
          p999Ms: fan(s, (r) => phase(r.halfLoad, (p) => p.p999Ms), 2),
          deliveredRatio: fan(s, (r) => phase(r.halfLoad, (p) => p.deliveredRatio), 4),
          serverUsPerDelivery: fan(s, (r) => phase(r.halfLoad, (p) => p.serverUsPerDelivery), 2),
          serverCpu: fan(s, (r) => phase(r.halfLoad, (p) => p.cpu.servers), 0),
          clientCpu: fan(s, (r) => phase(r.halfLoad, (p) => p.cpu.clients), 0),
          publisherCpu: fan(s, (r) => phase(r.halfLoad, (p) => p.cpu.publisher), 0),
        },
        quarterLoad: {
          targetPerSecond: fan(s, (r) => phase(r.quarterLoad, (p) => p.targetPerSecond), 0),
          p50Ms: fan(s, (r) => phase(r.quarterLoad, (p) => p.p50Ms), 2),
          p99Ms: fan(s, (r) => phase(r.quarterLoad, (p) => p.p99Ms), 2),
          deliveredRatio: fan(s, (r) => phase(r.quarterLoad, (p) => p.deliveredRatio), 4),
          serverUsPerDelivery: fan(s, (r) => phase(r.quarterLoad, (p) => p.serverUsPerDelivery), 2),
        },
        commonLoad: {
          targetPerSecond: fan(s, (r) => phase(r.commonLoad ?? (s === 'socketio' ? r.halfLoad : undefined), (p) => p.targetPerSecond), 0),
          p50Ms: fan(s, (r) => phase(r.commonLoad ?? (s === 'socketio' ? r.halfLoad : undefined), (p) => p.p50Ms), 2),
          p99Ms: fan(s, (r) => phase(r.commonLoad ?? (s === 'socketio' ? r.halfLoad : undefined), (p) => p.p99Ms), 2),
          deliveredRatio: fan(s, (r) => phase(r.commonLoad ?? (s === 'socketio' ? r.halfLoad : undefined), (p) => p.deliveredRatio), 4),
          serverUsPerDelivery: fan(s, (r) => phase(r.commonLoad ?? (s === 'socketio' ? r.halfLoad : undefined), (p) => p.serverUsPerDelivery), 2),
        },
        budget: {
          ratePerSecond: fan(s, (r) => r.budget?.ratePerSecond, 0),
          overAtPerSecond: fan(s, (r) => r.budget?.overAtPerSecond, 0),
        },
      },
    ]),
);
const idleReport = Object.fromEntries(
  (['switchboard', 'socketio', 'raw-ws'] as const)
    .filter((s) => results.some((r) => r.idle[s]))
    .map((s) => [
      s,
      {
        bytesPerConnection: figure(results.map((r) => r.idle[s]?.bytesPerConnection), 0),
        heapBytesPerConnection: figure(results.map((r) => r.idle[s]?.heapBytesPerConnection), 0),
        connections: config.idle.connections,
      },
    ]),
);
const idleRatio = figure(results.map((r) => (r.idle.switchboard && r.idle.socketio ? r.idle.switchboard.bytesPerConnection / r.idle.socketio.bytesPerConnection : undefined)), 2);
const ratios = {
  jsonVsSocketIo: ratio('switchboard-json', 'socketio', (r) => r.maxDeliveredPerSecond),
  msgpackVsSocketIo: ratio('switchboard-msgpack', 'socketio', (r) => r.maxDeliveredPerSecond),
  jsonVsRawWs: ratio('switchboard-json', 'raw-ws', (r) => r.maxDeliveredPerSecond),
  msgpackVsRawWs: ratio('switchboard-msgpack', 'raw-ws', (r) => r.maxDeliveredPerSecond),
  socketIoVsRawWs: ratio('socketio', 'raw-ws', (r) => r.maxDeliveredPerSecond),
  /** Backplane messages Switchboard pushed through Redis at its max, against what Redis can carry to 2 subscribers. */
  jsonBackplaneVsRedis: ratio('switchboard-json', 'redis', (r) => r.maxPublishedPerSecond),
  jsonP99HalfLoadVsSocketIo: ratio('switchboard-json', 'socketio', (r) => r.halfLoad?.p99Ms),
  msgpackP99HalfLoadVsSocketIo: ratio('switchboard-msgpack', 'socketio', (r) => r.halfLoad?.p99Ms),
  /** The same traffic for both: Switchboard at Socket.IO's half rate against Socket.IO there. */
  jsonP99SameRateVsSocketIo: ratio('switchboard-json', 'socketio', (r) => r.commonLoad?.p99Ms ?? r.halfLoad?.p99Ms),
  msgpackP99SameRateVsSocketIo: ratio('switchboard-msgpack', 'socketio', (r) => r.commonLoad?.p99Ms ?? r.halfLoad?.p99Ms),
  /** The same latency for both: the highest rate seen with p99 within the budget (20 ms), Switchboard / Socket.IO. */
  jsonRateWithinBudgetVsSocketIo: ratio('switchboard-json', 'socketio', (r) => r.budget?.ratePerSecond),
  msgpackRateWithinBudgetVsSocketIo: ratio('switchboard-msgpack', 'socketio', (r) => r.budget?.ratePerSecond),
  idleMemoryVsSocketIo: idleRatio,
};

/** This checkout against `--compare`, figure by figure (medians and per-run ratios). */
function compareReport() {
  const pair = (now: (r: Run) => number | undefined, then: (r: Run) => number | undefined, digits = 2) => ({
    now: figure(results.map(now), digits),
    then: figure(results.map(then), digits),
    ratio: figure(
      results.map((r) => {
        const a = now(r);
        const b = then(r);
        return a !== undefined && b !== undefined && b ? a / b : undefined;
      }),
      2,
    ),
  });
  const fanoutOf = (s: 'switchboard-json' | 'switchboard-msgpack') =>
    results.some((r) => r.compare?.fanout[s])
      ? {
          maxDeliveredPerSecond: pair((r) => r.fanout[s]?.maxDeliveredPerSecond, (r) => r.compare?.fanout[s]?.maxDeliveredPerSecond, 0),
          serverUsPerDelivery: pair((r) => r.fanout[s]?.serverUsPerDelivery, (r) => r.compare?.fanout[s]?.serverUsPerDelivery),
          halfP50Ms: pair((r) => r.fanout[s]?.halfLoad?.p50Ms, (r) => r.compare?.fanout[s]?.halfLoad?.p50Ms),
          halfP99Ms: pair((r) => r.fanout[s]?.halfLoad?.p99Ms, (r) => r.compare?.fanout[s]?.halfLoad?.p99Ms),
          halfServerUs: pair((r) => r.fanout[s]?.halfLoad?.serverUsPerDelivery, (r) => r.compare?.fanout[s]?.halfLoad?.serverUsPerDelivery),
          commonP99Ms: pair((r) => r.fanout[s]?.commonLoad?.p99Ms, (r) => r.compare?.fanout[s]?.commonLoad?.p99Ms),
          commonServerUs: pair((r) => r.fanout[s]?.commonLoad?.serverUsPerDelivery, (r) => r.compare?.fanout[s]?.commonLoad?.serverUsPerDelivery),
        }
      : undefined;
  return {
    root: compareRoot,
    label: compareLabel,
    fanout: { 'switchboard-json': fanoutOf('switchboard-json'), 'switchboard-msgpack': fanoutOf('switchboard-msgpack') },
    idle: results.some((r) => r.compare?.idle)
      ? {
          rss: pair((r) => r.idle.switchboard?.bytesPerConnection, (r) => r.compare?.idle?.bytesPerConnection, 0),
          heap: pair((r) => r.idle.switchboard?.heapBytesPerConnection, (r) => r.compare?.idle?.heapBytesPerConnection, 0),
        }
      : undefined,
  };
}

type Verdict = { target: string; value: string; met: boolean | null };
const m = (f: Figure | undefined) => f?.median;
const fmt = (n: number | undefined, d = 2) => (n === undefined ? 'n/a' : n.toLocaleString('en-US', { maximumFractionDigits: d }));
const judged = mode !== 'smoke';
const verdict = (target: string, value: number | undefined, ok: (v: number) => boolean, unit = '', digits = 2): Verdict => ({
  target,
  value: `${fmt(value, digits)}${unit}`,
  met: !judged || value === undefined ? null : ok(value),
});
const sbP99 = Math.max(m(fanoutReport['switchboard-json']?.halfLoad.p99Ms) ?? NaN, m(fanoutReport['switchboard-msgpack']?.halfLoad.p99Ms) ?? NaN);
const lossAtRate = Math.min(
  ...(['switchboard-json', 'switchboard-msgpack'] as const).flatMap((s) =>
    results.flatMap((r) => [r.fanout[s]?.halfLoad?.deliveredRatio, r.fanout[s]?.quarterLoad?.deliveredRatio, r.fanout[s]?.commonLoad?.deliveredRatio].filter((x): x is number => x !== undefined)),
  ),
);
const targets: Verdict[] = [
  verdict('fan-out JSON ≥ 2x Socket.IO (same run, median of per-run ratios)', m(ratios.jsonVsSocketIo), (v) => v >= 2, 'x'),
  verdict('fan-out MessagePack ≥ 2x Socket.IO', m(ratios.msgpackVsSocketIo), (v) => v >= 2, 'x'),
  verdict('fan-out JSON ≥ 70% of the raw ws limit', m(ratios.jsonVsRawWs), (v) => v >= 0.7, 'x'),
  verdict('fan-out MessagePack ≥ 70% of the raw ws limit', m(ratios.msgpackVsRawWs), (v) => v >= 0.7, 'x'),
  verdict('p99 at half load below Socket.IO’s (JSON, ratio)', m(ratios.jsonP99HalfLoadVsSocketIo), (v) => v < 1, 'x'),
  verdict('p99 at half load below Socket.IO’s (MessagePack, ratio)', m(ratios.msgpackP99HalfLoadVsSocketIo), (v) => v < 1, 'x'),
  verdict('p99 at half load < 20 ms (worse of JSON / MessagePack)', Number.isFinite(sbP99) ? sbP99 : undefined, (v) => v < 20, ' ms'),
  verdict('idle memory per connection ≤ half of Socket.IO’s (ratio)', m(idleRatio), (v) => v <= 0.5, 'x'),
  verdict('idle memory per connection < 12 KB', m(idleReport['switchboard']?.bytesPerConnection), (v) => v < 12 * 1024, ' B', 0),
  verdict('no loss at the fixed rates (lowest delivered/expected, every run)', Number.isFinite(lossAtRate) ? lossAtRate : undefined, (v) => v >= 1, '', 4),
];

const jobsKeys = ['jobsPerSecond', 'jobLatencyP50Ms', 'jobLatencyP99Ms', 'progressUpdatesDeliveredPerSecond', 'maxUpdatesPerSecondPerJob'] as const;
const jobsRuns = results.map((r) => r.jobs).filter((j): j is JobsScenarioResult => j !== undefined);
const jobsReport = jobsRuns.length
  ? {
      setup: { hubNodes: 2, workerProcesses: 2, poolSizePerWorker: 1, concurrencyPerWorker: 8, ...config.jobs },
      ...Object.fromEntries(jobsKeys.map((k) => [k, figure(jobsRuns.map((j) => j[k]))])),
      terminalExactlyOnce: jobsRuns.every((j) => j.terminalExactlyOnce),
    }
  : undefined;

const report = {
  date: new Date().toISOString(),
  mode,
  runs,
  durationSeconds: round((performance.now() - started) / 1000),
  machine: { cpus: cpus().length, cpuModel: cpus()[0]?.model, memoryGiB: round(totalmem() / 2 ** 30), node: process.version },
  loadAverage: results.map((r) => r.load),
  cpuSpeedMs: results.map((r) => r.cpuSpeedMs),
  versions: {
    redis: redisVersion(),
    ws: pkgVersion('ws', hubServerUrl),
    ioredis: pkgVersion('ioredis'),
    'socket.io': pkgVersion('socket.io'),
    '@socket.io/redis-adapter': pkgVersion('@socket.io/redis-adapter'),
    '@socket.io/redis-emitter': pkgVersion('@socket.io/redis-emitter'),
  },
  fanout: { setup: { ...config.fanout, serverNodes: 2, tickJsonBytes, envelopeBytes: envelopeBytes() }, stacks: fanoutReport },
  ratios,
  idle: { setup: config.idle, stacks: idleReport },
  targets,
  ...(jobsReport ? { jobs: jobsReport } : {}),
  ...(compareRoot ? { compare: compareReport() } : {}),
};

// ---- Markdown ----
const cell = (f: Figure | undefined, d = 2, unit = '') => (f ? `${fmt(f.median, d)}${unit}${runs > 1 ? ` ±${fmt(f.spreadPercent, 0)}%` : ''}` : 'n/a');
const label: Record<string, string> = {
  'switchboard-json': 'Switchboard, JSON',
  'switchboard-msgpack': 'Switchboard, MessagePack',
  socketio: 'Socket.IO 4 + redis-adapter + redis-emitter',
  'raw-ws': 'limit: raw `ws`, one pre-serialized frame per delivery (no Redis)',
  redis: 'limit: Redis pub/sub, 1 publisher → 2 subscribers',
};
const f = config.fanout;
/** The rate-within-a-budget table (budget.ts), or nothing when no stack searched. */
function budgetTable(): string[] {
  const stacks = fanoutStacks.filter((s) => fanoutReport[s]?.budget.ratePerSecond);
  if (!stacks.length) return [];
  const budgetMs = f.budget?.budgetMs;
  return [
    `### Rate within a p99 of ${budgetMs} ms (the same latency for every stack: the highest fixed rate seen with p99 ≤ ${budgetMs} ms and no loss; ${f.budget?.probes ?? 0} probe(s) of ${f.budget?.measureMs ?? 0} ms after the phases above)`,
    '',
    '| stack | deliveries/s within the budget | runs | lowest rate seen over it |',
    '|---|---|---|---|',
    ...stacks.map((s) => {
      const b = fanoutReport[s]!.budget;
      return `| ${label[s]} | ${cell(b.ratePerSecond, 0)} | ${b.ratePerSecond?.runs.map((x) => fmt(x, 0)).join(', ') ?? ''} | ${cell(b.overAtPerSecond, 0)} |`;
    }),
    '',
  ];
}
const lines: string[] = [
  `Benchmark, ${mode} mode, ${runs} run(s), ${report.date}, ${report.durationSeconds} s: ${report.machine.cpus} vCPUs (${report.machine.cpuModel}), ${report.machine.memoryGiB} GiB, Node ${report.machine.node}, Redis ${report.versions.redis}, ws ${report.versions.ws}, socket.io ${report.versions['socket.io']}, @socket.io/redis-adapter ${report.versions['@socket.io/redis-adapter']}, @socket.io/redis-emitter ${report.versions['@socket.io/redis-emitter']}, ioredis ${report.versions.ioredis}.`,
  `Load average (1 min) before/after each run: ${results.map((r) => `${r.load.before}/${r.load.after}`).join(', ')}. CPU speed at the start of each run (a fixed single-threaded workload, ms, lower is faster; compare runs only at similar speeds): ${report.cpuSpeedMs.join(', ')}. Cells: median ±spread ((max − min) / median) over the runs.`,
  '',
  `### Fan-out: ${f.clients.toLocaleString('en-US')} clients in ${f.groups} groups over 2 nodes, ${f.clientProcesses} client processes, 1 publisher process, ~${tickJsonBytes}-byte JSON frames`,
  '',
  '| stack | max delivered msg/s | delivered/expected at max | p50 / p99 ms at half its max | delivered/expected at half | p50 / p99 ms at a quarter of its max | p50 / p99 ms at Socket.IO’s half | server CPU µs/delivery at max | client CPU µs/delivery at max | CPU % at max: servers / clients / publisher / Redis |',
  '|---|---|---|---|---|---|---|---|---|---|',
  ...[...fanoutStacks, 'redis' as const]
    .filter((s) => fanoutReport[s])
    .map((s) => {
      const r = fanoutReport[s]!;
      const half = r.halfLoad.p50Ms ? `${cell(r.halfLoad.p50Ms)} / ${cell(r.halfLoad.p99Ms)} (at ${fmt(m(r.halfLoad.targetPerSecond), 0)}/s)` : 'n/a';
      const common = r.commonLoad.p50Ms ? `${cell(r.commonLoad.p50Ms)} / ${cell(r.commonLoad.p99Ms)}` : 'n/a';
      const quarter = r.quarterLoad.p50Ms ? `${cell(r.quarterLoad.p50Ms)} / ${cell(r.quarterLoad.p99Ms)} (at ${fmt(m(r.quarterLoad.targetPerSecond), 0)}/s)` : 'n/a';
      const cpu = r.cpuAtMax;
      return `| ${label[s]} | ${cell(r.maxDeliveredPerSecond, 0)} | ${cell(r.maxDeliveredRatio, 4)} | ${half} | ${cell(r.halfLoad.deliveredRatio, 4)} | ${quarter} | ${common} | ${cell(r.serverUsPerDelivery)} | ${cell(r.clientUsPerDelivery)} | ${[cpu.servers, cpu.clients, cpu.publisher, cpu.redis].map((c) => fmt(m(c), 0)).join(' / ')} |`;
    }),
  '',
  ...budgetTable(),
  '### Ratios (per run, then median)',
  '',
  '| ratio | median | runs |',
  '|---|---|---|',
  ...Object.entries(ratios).map(([k, v]) => `| ${k} | ${v ? fmt(v.median) : 'n/a'} | ${v ? v.runs.join(', ') : ''} |`),
  '',
  `### Idle connections: memory per connection on one node (${config.idle.connections.toLocaleString('en-US')} connections after ${warmConnections(config.idle.connections).toLocaleString('en-US')} warm ones, each in one group; growth after a full GC / connections)`,
  '',
  '| stack | RSS bytes per connection | runs | JS heap + external bytes per connection | runs |',
  '|---|---|---|---|---|',
  ...Object.entries(idleReport).map(
    ([k, v]) => `| ${k} | ${cell(v.bytesPerConnection, 0)} | ${v.bytesPerConnection?.runs.join(', ') ?? ''} | ${cell(v.heapBytesPerConnection, 0)} | ${v.heapBytesPerConnection?.runs.join(', ') ?? ''} |`,
  ),
  '',
  `### Targets${judged ? '' : ' (smoke mode: not judged)'}`,
  '',
  '| target | value (median) | met |',
  '|---|---|---|',
  ...targets.map((t) => `| ${t.target} | ${t.value} | ${t.met === null ? '-' : t.met ? 'yes' : '**no**'} |`),
  '',
];
if (compareRoot) {
  const c = compareReport();
  const row = (name: string, now: Figure | undefined, then: Figure | undefined, ratio: Figure | undefined, d = 2) =>
    `| ${name} | ${cell(then, d)} | ${cell(now, d)} | ${ratio ? fmt(ratio.median) : 'n/a'} |`;
  lines.push(
    `### This checkout against ${compareLabel} (${compareRoot}), same runs`,
    '',
    `| figure | ${compareLabel} | this checkout | this / ${compareLabel} (per run, median) |`,
    '|---|---|---|---|',
    ...(['switchboard-json', 'switchboard-msgpack'] as const).flatMap((s) => {
      const x = c.fanout[s];
      return x
        ? [
            row(`${label[s]}: max delivered msg/s`, x.maxDeliveredPerSecond.now, x.maxDeliveredPerSecond.then, x.maxDeliveredPerSecond.ratio, 0),
            row(`${label[s]}: server CPU µs/delivery at max`, x.serverUsPerDelivery.now, x.serverUsPerDelivery.then, x.serverUsPerDelivery.ratio),
            row(`${label[s]}: p50 ms at half its own max`, x.halfP50Ms.now, x.halfP50Ms.then, x.halfP50Ms.ratio),
            row(`${label[s]}: p99 ms at half its own max`, x.halfP99Ms.now, x.halfP99Ms.then, x.halfP99Ms.ratio),
            row(`${label[s]}: server CPU µs/delivery at half its own max`, x.halfServerUs.now, x.halfServerUs.then, x.halfServerUs.ratio),
            row(`${label[s]}: p99 ms at Socket.IO’s half rate`, x.commonP99Ms.now, x.commonP99Ms.then, x.commonP99Ms.ratio),
            row(`${label[s]}: server CPU µs/delivery at Socket.IO’s half rate`, x.commonServerUs.now, x.commonServerUs.then, x.commonServerUs.ratio),
          ]
        : [];
    }),
    ...(c.idle
      ? [
          row('idle memory per connection, RSS bytes', c.idle.rss.now, c.idle.rss.then, c.idle.rss.ratio, 0),
          row('idle memory per connection, JS heap + external bytes', c.idle.heap.now, c.idle.heap.then, c.idle.heap.ratio, 0),
        ]
      : []),
    '',
  );
}
if (jobsReport) {
  const j = jobsReport as unknown as Record<string, Figure | undefined>;
  lines.push(
    `### Jobs pipeline (Switchboard only: Socket.IO has no job pipeline to compare)`,
    '',
    `2 hub nodes, 2 worker processes (1 thread, concurrency 8 each), private Redis; ${config.jobs.jobs} hash jobs of 1,000 rounds, each enqueued and watched by one of 20 clients; then ${config.jobs.progressJobs} long jobs with ${config.jobs.watchersPerJob} watchers each.`,
    '',
    '| figure | median | spread | runs |',
    '|---|---|---|---|',
    ...(
      [
        ['jobs/s end to end (enqueue → terminal update at the watcher)', 'jobsPerSecond'],
        ['job latency p50 (ms)', 'jobLatencyP50Ms'],
        ['job latency p99 (ms)', 'jobLatencyP99Ms'],
        ['progress updates delivered/s (all watchers)', 'progressUpdatesDeliveredPerSecond'],
        ['max progress updates/s for one job (coalescing cap ~10)', 'maxUpdatesPerSecondPerJob'],
      ] as const
    ).map(([name, k]) => `| ${name} | ${j[k]?.median ?? 'n/a'} | ±${j[k]?.spreadPercent ?? 0}% | ${j[k]?.runs.join(', ') ?? ''} |`),
    `| terminal update at most once per watcher | ${jobsReport.terminalExactlyOnce ? 'yes' : 'NO'} | | |`,
    '',
  );
}
const md = lines.join('\n');
const dir = new URL('../results/', import.meta.url);
mkdirSync(dir, { recursive: true });
const base = compareRoot ? `compare-${mode}` : mode === 'full' && !arg('only') && runs >= 3 ? 'latest' : mode;
writeFileSync(new URL(`${base}.json`, dir), `${JSON.stringify(report, null, 2)}\n`);
writeFileSync(new URL(`${base}.md`, dir), md);
console.log(md);

// Sanity, in every mode (not a speed check): every scenario delivered, nothing was lost at the fixed
// rates, no watcher saw a terminal update twice. The smoke run in CI relies on this exit code.
const problems: string[] = [];
for (const r of results) {
  for (const [stack, f] of Object.entries(r.fanout)) {
    if (!(f.maxDeliveredPerSecond > 0)) problems.push(`${stack}: nothing delivered at the maximum rate`);
    if (f.maxDeliveredRatio < 1) problems.push(`${stack}: ${(1 - f.maxDeliveredRatio) * 100}% lost at the maximum rate`);
    for (const p of [f.halfLoad, f.quarterLoad, f.commonLoad]) if (p && !(p.deliveredRatio >= 1)) problems.push(`${stack}: delivered/expected ${p.deliveredRatio} at ${Math.round(p.targetPerSecond)}/s`);
  }
  for (const [stack, i] of Object.entries(r.idle)) if (!Number.isFinite(i.bytesPerConnection)) problems.push(`${stack}: no idle memory reading`);
  if (r.jobs && !r.jobs.terminalExactlyOnce) problems.push('jobs: a watcher saw a terminal update twice');
}
if (problems.length) {
  console.error(`bench: FAILED\n${problems.map((p) => `- ${p}`).join('\n')}`);
  process.exitCode = 1;
}
