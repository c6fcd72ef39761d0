import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { createRequire } from 'node:module';
import { encodeEnvelope } from '@switchboard/hub-server/backplane';
import { jsonHubProtocol, messagePackHubProtocol, MessageType, type InvocationMessage } from '@switchboard/protocol';
import { startRedis } from '@switchboard/test/support/redis';
import { aggregate, type Run } from './aggregate.js';
import { runFanout, runRedisLimit, type FanoutOptions, type FanoutStack } from './fanout.js';
import { runIdle, type IdleOptions } from './idle.js';
import { runJobsScenario, type JobsScenarioOptions } from './jobs-scenario.js';
import { runModerate, type ModerateOptions } from './moderate.js';
import { aggregateModerate, renderModerate } from './moderate-report.js';
import { cpuSpeedMs, loadAverage, redisPid } from './proc.js';
import { renderMarkdown, type ReportHeader } from './report-markdown.js';
import { PAD } from './roles/source.js';
import { round } from './stats.js';

/**
 * `npm run bench` (full: 3 runs), `-- --quick` (1 smaller run), `-- --smoke` (about 30 s, what CI
 * runs so the benchmark cannot rot; no figure is judged), `-- --scale` (connections per hub node,
 * its own mode: scale-mode.ts). Options: `--runs=N`,
 * `--only=fanout,moderate,limits,idle,jobs`, `--profile` (hub and Socket.IO nodes, and the jobs scenarios'
 * hub nodes and workers, write CPU profiles to bench/results/profiles/), `--compare=<dir>
 * [--compare-label=x]` (Switchboard from another built checkout too, for before/after). Every role
 * runs in its own process (bench/README.md). Writes bench/results/latest.{json,md} (full, 3+ runs,
 * all scenarios) or <mode>.{json,md}; exits 1 if a scenario lost messages or delivered nothing, or
 * a jobs check failed.
 */
type Mode = 'full' | 'quick' | 'smoke';
const args = process.argv.slice(2);
const mode: Mode = args.includes('--smoke') ? 'smoke' : args.includes('--quick') ? 'quick' : 'full';
const arg = (name: string) => args.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
const runs = Number(arg('runs') ?? (mode === 'full' ? 3 : 1));
const only = new Set((arg('only') ?? 'fanout,moderate,limits,idle,jobs').split(','));
const profile = args.includes('--profile');
/** `--compare=<dir>`: also run Switchboard's fan-out and idle scenarios with hub nodes and publisher from another (built) checkout, in the same runs, for before/after figures. */
const compareRoot = arg('compare');
const compareLabel = arg('compare-label') ?? 'compare';

/**
 * The jobs scenarios' fixed setup (bench/README.md, "Jobs"): as issue 19 states it, 2 hub nodes and
 * 2 worker processes × concurrency 50; one piscina thread per worker (2 cores); 2 load-client
 * processes with 50 connections each; at most 400 Switchboard jobs (1,000 raw BullMQ jobs) in flight,
 * 4x (10x) the 100 jobs the workers run at once, enough to keep them busy without long drains.
 */
const JOBS_COMMON = { workers: 2, concurrency: 50, poolSize: 1, hubs: 2, clientProcesses: 2, connectionsPerProcess: 50, window: 400, bullWindow: 1000, bullBatch: 250 };

/** The moderate-rate scenario (moderate.ts, issue 17): the same for every stack, 20,000 deliveries/s at C = 1,000 and 5,000. */
const MODERATE: ModerateOptions = { clients: [1000, 5000], groups: 10, clientProcesses: 2, ratePerSecond: 20_000, warmupMs: 1000, measureMs: 3000, stacks: ['raw-ws', 'socketio', 'switchboard-json'] };

const CONFIG: Record<Mode, { fanout: FanoutOptions; idle: IdleOptions; jobs: JobsScenarioOptions; moderate: ModerateOptions }> = {
  full: {
    fanout: { clients: 1000, groups: 10, clientProcesses: 2, warmupMs: 1000, measureMs: 4000, rateWarmupMs: 1000, rateMs: 3000, window: 20_000, budget: { budgetMs: 20, probes: 2, warmupMs: 500, measureMs: 800 } },
    idle: { connections: 4000, groups: 10, clientProcesses: 2, settleMs: 700 },
    moderate: MODERATE,
    jobs: {
      ...JOBS_COMMON,
      warmupMs: 2000,
      measureMs: 10_000,
      firstWarmupMs: 4000,
      drainMs: 30_000,
      progress: { jobs: 1000, watchers: 3, warmupMs: 2000, measureMs: 10_000 },
      scaling: { workers: [1, 2, 4], hubs: [1, 2] },
    },
  },
  quick: {
    fanout: { clients: 1000, groups: 10, clientProcesses: 2, warmupMs: 400, measureMs: 1500, rateWarmupMs: 400, rateMs: 1000, window: 20_000, budget: { budgetMs: 20, probes: 1, warmupMs: 300, measureMs: 700 } },
    idle: { connections: 2500, groups: 10, clientProcesses: 2, settleMs: 400 },
    moderate: { ...MODERATE, warmupMs: 500, measureMs: 2000 },
    // Worker scaling (a restart of the workers per point) only in full mode: quick stays near 90 s.
    jobs: { ...JOBS_COMMON, warmupMs: 500, measureMs: 1500, firstWarmupMs: 4000, drainMs: 20_000, progress: { jobs: 1000, watchers: 3, warmupMs: 500, measureMs: 1500 }, scaling: { workers: [], hubs: [1, 2] } },
  },
  smoke: {
    fanout: { clients: 40, groups: 4, clientProcesses: 1, warmupMs: 100, measureMs: 300, rateWarmupMs: 100, rateMs: 300, window: 2000, budget: { budgetMs: 20, probes: 1, warmupMs: 100, measureMs: 200 } },
    idle: { connections: 100, groups: 4, clientProcesses: 1, settleMs: 200 },
    moderate: { ...MODERATE, clients: [40], groups: 4, clientProcesses: 1, ratePerSecond: 2000, warmupMs: 100, measureMs: 300 },
    jobs: {
      ...JOBS_COMMON,
      clientProcesses: 1,
      connectionsPerProcess: 10,
      window: 100,
      bullWindow: 500,
      bullBatch: 100,
      warmupMs: 200,
      measureMs: 500,
      firstWarmupMs: 0,
      drainMs: 10_000,
      progress: { jobs: 20, watchers: 2, warmupMs: 300, measureMs: 500 },
      scaling: { workers: [], hubs: [] },
    },
  },
};
const config = CONFIG[mode];
// `--moderate-clients=1000,5000`, `--moderate-stacks=switchboard-json,raw-ws`: a subset of the moderate-rate points.
if (arg('moderate-clients')) config.moderate.clients = arg('moderate-clients')!.split(',').map(Number);
if (arg('moderate-stacks')) config.moderate.stacks = arg('moderate-stacks')!.split(',') as FanoutStack[];
const profileDir = new URL('../results/profiles/', import.meta.url);
if (profile) {
  mkdirSync(profileDir, { recursive: true });
  config.fanout.serverNodeOptions = `--import=${new URL('./roles/cpu-profile.js', import.meta.url).href}`;
  config.jobs.nodeOptions = config.fanout.serverNodeOptions;
  config.moderate.serverNodeOptions = config.fanout.serverNodeOptions;
  process.env['BENCH_PROFILE_DIR'] = profileDir.pathname;
}

/** Size of the backplane envelope of one tick: the Redis limit publishes payloads this big. */
function envelopeBytes(): number {
  const msg: InvocationMessage = { type: MessageType.Invocation, target: 'tick', arguments: [{ t: 1e7 + 0.123456, s: 12345, p: PAD }] };
  const payloads = new Map([
    ['json', jsonHubProtocol.write(msg)],
    ['messagepack', messagePackHubProtocol.write(msg)],
  ]);
  return encodeEnvelope({ kind: 1, origin: 'x'.repeat(16), target: 1, name: 'g1', excluded: [], payloads, sentAt: 1.7e12 + 0.123 }).length;
}
const tickJsonBytes = jsonHubProtocol.write({ type: MessageType.Invocation, target: 'tick', arguments: [{ t: 1e7 + 0.123456, s: 12345, p: PAD }] }).length;

const t0 = performance.now();
const log = (s: string) => process.stderr.write(`bench: [${((performance.now() - t0) / 1000).toFixed(1)} s] ${s}\n`);

// `--scale` is a mode of its own (scale-mode.ts, bench/README.md "Scale"): nothing below runs.
if (args.includes('--scale')) {
  const { runScaleMode } = await import('./scale-mode.js');
  process.exitCode = await runScaleMode(args, log);
  await new Promise<void>((resolve) => process.stdout.write('', () => resolve()));
  process.exit();
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
    if (only.has('moderate')) {
      run.moderate = await runModerate(config.moderate, env, (s) => log(`run ${i}: ${s}`));
      if (compareRoot) run.moderate.push(...(await runModerate(config.moderate, env, (s) => log(`run ${i}: ${s}`), { root: compareRoot, label: compareLabel }, ['switchboard-json'])));
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
    run.jobs = await runJobsScenario(config.jobs, (s) => log(`run ${i}: ${s}`));
  }
  run.load.after = loadAverage();
  return run;
}

const started = performance.now();
const results: Run[] = [];
for (let i = 1; i <= runs; i++) results.push(await oneRun(i));

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

const moderateRuns = results.flatMap((r) => (r.moderate ? [r.moderate] : []));
const moderate = moderateRuns.length ? aggregateModerate(moderateRuns, config.moderate, mode !== 'smoke') : undefined;
const agg = aggregate(results, { mode, idleConnections: config.idle.connections, jobs: config.jobs, ...(compareRoot ? { compareRoot } : {}), compareLabel });
const header: ReportHeader = {
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
};
const report = {
  ...header,
  fanout: { setup: { ...config.fanout, serverNodes: 2, tickJsonBytes, envelopeBytes: envelopeBytes() }, stacks: agg.fanout },
  ratios: agg.ratios,
  idle: { setup: config.idle, stacks: agg.idle },
  targets: agg.targets,
  ...(agg.jobs ? { jobs: agg.jobs } : {}),
  ...(moderate ? { moderate } : {}),
  ...(agg.compare ? { compare: agg.compare } : {}),
};

const md = renderMarkdown(header, agg, { fanout: config.fanout, idle: config.idle, jobs: config.jobs, tickJsonBytes }) + (moderate ? `\n${renderModerate(moderate, runs).join('\n')}` : '');
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
  for (const p of r.moderate ?? []) {
    if (!(p.phase.deliveredRatio >= 1)) problems.push(`moderate, ${p.stack}${p.checkout ? ` (${p.checkout})` : ''}, C = ${p.clients}: delivered/expected ${p.phase.deliveredRatio}`);
  }
  for (const [stack, i] of Object.entries(r.idle)) if (!Number.isFinite(i.bytesPerConnection)) problems.push(`${stack}: no idle memory reading`);
  if (r.jobs) {
    const j = r.jobs;
    if (!j.terminalExactlyOnce) problems.push('jobs: a watcher missed its terminal update or saw it twice, or a job was left active (see "Jobs: checks")');
    for (const [name, v] of [['raw BullMQ', j.raw.jobsPerSecond], ['noop', j.noop.jobsPerSecond], ['thread', j.thread.jobsPerSecond], ['progress', j.progress.updatesPerSecond]] as const) {
      if (!(v > 0)) problems.push(`jobs: ${name} delivered nothing`);
    }
    for (const [name, c] of [['noop', j.noop.checks], ['thread', j.thread.checks], ['noop at half', j.latency.checks], ['progress', j.progress.checks]] as const) {
      if (c.errors) problems.push(`jobs, ${name}: ${c.errors} error(s), first: ${c.firstError}`);
      if (c.missing || c.duplicates || c.leftActive || c.leftWaiting) {
        problems.push(`jobs, ${name}: ${c.missing} watcher(s) without a terminal update, ${c.duplicates} with a second one or an update after it, ${c.leftActive} job(s) left active, ${c.leftWaiting} waiting`);
      }
    }
    if (j.raw.lost) problems.push(`jobs: raw BullMQ lost ${j.raw.lost} job(s)`);
  }
}
if (problems.length) {
  console.error(`bench: FAILED\n${problems.map((p) => `- ${p}`).join('\n')}`);
  process.exitCode = 1;
}
