import { FANOUT_STACKS, fmt, medianOf, type Aggregate, type Figure } from './aggregate.js';
import type { FanoutOptions } from './fanout.js';
import { warmConnections, type IdleOptions } from './idle.js';
import { renderJobs } from './jobs-report.js';
import type { JobsScenarioOptions } from './jobs-scenario.js';

/** The report's header: when, where, with what. */
export interface ReportHeader {
  readonly date: string;
  readonly mode: 'full' | 'quick' | 'smoke';
  readonly runs: number;
  readonly durationSeconds: number;
  readonly machine: { readonly cpus: number; readonly cpuModel: string | undefined; readonly memoryGiB: number; readonly node: string };
  readonly loadAverage: readonly { readonly before: number; readonly after: number }[];
  readonly cpuSpeedMs: readonly number[];
  readonly versions: Readonly<Record<'redis' | 'ws' | 'ioredis' | 'socket.io' | '@socket.io/redis-adapter' | '@socket.io/redis-emitter', string>>;
}

/** What the scenarios were run with. */
export interface ReportSetup {
  readonly fanout: FanoutOptions;
  readonly idle: IdleOptions;
  readonly jobs: JobsScenarioOptions;
  /** Bytes of one tick's JSON hub frame. */
  readonly tickJsonBytes: number;
}

/** The markdown report (bench/results/<name>.md): the tables of bench/README.md's "Latest figures" come from it. */
export function renderMarkdown(report: ReportHeader, agg: Aggregate, setup: ReportSetup): string {
  const { mode, runs } = report;
  const { fanout: fanoutReport, ratios, idle: idleReport, targets, jobs: jobsReport } = agg;
  const { tickJsonBytes } = setup;
  const judged = mode !== 'smoke';
  const cell = (f: Figure | undefined, d = 2, unit = '') => (f ? `${fmt(f.median, d)}${unit}${runs > 1 ? ` ±${fmt(f.spreadPercent, 0)}%` : ''}` : 'n/a');
  const label: Record<string, string> = {
    'switchboard-json': 'Switchboard, JSON',
    'switchboard-msgpack': 'Switchboard, MessagePack',
    socketio: 'Socket.IO 4 + redis-adapter + redis-emitter',
    'raw-ws': 'limit: raw `ws`, one pre-serialized frame per delivery (no Redis)',
    redis: 'limit: Redis pub/sub, 1 publisher → 2 subscribers',
  };
  const f = setup.fanout;
  /** The rate-within-a-budget table (budget.ts), or nothing when no stack searched. */
  function budgetTable(): string[] {
    const stacks = FANOUT_STACKS.filter((s) => fanoutReport[s]?.budget.ratePerSecond);
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
    `Load average (1 min) before/after each run: ${report.loadAverage.map((l) => `${l.before}/${l.after}`).join(', ')}. CPU speed at the start of each run (a fixed single-threaded workload, ms, lower is faster; compare runs only at similar speeds): ${report.cpuSpeedMs.join(', ')}. Cells: median ±spread ((max − min) / median) over the runs.`,
    '',
  ];
  // Sections of scenarios this run did not include (`--only`) are left out.
  if (Object.keys(fanoutReport).length) lines.push(
    `### Fan-out: ${f.clients.toLocaleString('en-US')} clients in ${f.groups} groups over 2 nodes, ${f.clientProcesses} client processes, 1 publisher process, ~${tickJsonBytes}-byte JSON frames`,
    '',
    '| stack | max delivered msg/s | delivered/expected at max | p50 / p99 ms at half its max | delivered/expected at half | p50 / p99 ms at a quarter of its max | p50 / p99 ms at Socket.IO’s half | server CPU µs/delivery at max | client CPU µs/delivery at max | CPU % at max: servers / clients / publisher / Redis |',
    '|---|---|---|---|---|---|---|---|---|---|',
    ...[...FANOUT_STACKS, 'redis' as const]
      .filter((s) => fanoutReport[s])
      .map((s) => {
        const r = fanoutReport[s]!;
        const half = r.halfLoad.p50Ms ? `${cell(r.halfLoad.p50Ms)} / ${cell(r.halfLoad.p99Ms)} (at ${fmt(medianOf(r.halfLoad.targetPerSecond), 0)}/s)` : 'n/a';
        const common = r.commonLoad.p50Ms ? `${cell(r.commonLoad.p50Ms)} / ${cell(r.commonLoad.p99Ms)}` : 'n/a';
        const quarter = r.quarterLoad.p50Ms ? `${cell(r.quarterLoad.p50Ms)} / ${cell(r.quarterLoad.p99Ms)} (at ${fmt(medianOf(r.quarterLoad.targetPerSecond), 0)}/s)` : 'n/a';
        const cpu = r.cpuAtMax;
        return `| ${label[s]} | ${cell(r.maxDeliveredPerSecond, 0)} | ${cell(r.maxDeliveredRatio, 4)} | ${half} | ${cell(r.halfLoad.deliveredRatio, 4)} | ${quarter} | ${common} | ${cell(r.serverUsPerDelivery)} | ${cell(r.clientUsPerDelivery)} | ${[cpu.servers, cpu.clients, cpu.publisher, cpu.redis].map((c) => fmt(medianOf(c), 0)).join(' / ')} |`;
      }),
    '',
    ...budgetTable(),
    '### Ratios (per run, then median)',
    '',
    '| ratio | median | runs |',
    '|---|---|---|',
    ...Object.entries(ratios).map(([k, v]) => `| ${k} | ${v ? fmt(v.median) : 'n/a'} | ${v ? v.runs.join(', ') : ''} |`),
    '',
  );
  if (Object.keys(idleReport).length) lines.push(
    `### Idle connections: memory per connection on one node (${setup.idle.connections.toLocaleString('en-US')} connections after ${warmConnections(setup.idle.connections).toLocaleString('en-US')} warm ones, each in one group; growth after a full GC / connections)`,
    '',
    '| stack | RSS bytes per connection | runs | JS heap + external bytes per connection | runs |',
    '|---|---|---|---|---|',
    ...Object.entries(idleReport).map(
      ([k, v]) => `| ${k} | ${cell(v.bytesPerConnection, 0)} | ${v.bytesPerConnection?.runs.join(', ') ?? ''} | ${cell(v.heapBytesPerConnection, 0)} | ${v.heapBytesPerConnection?.runs.join(', ') ?? ''} |`,
    ),
    '',
  );
  const measured = targets.filter((t) => !t.value.startsWith('n/a'));
  if (measured.length) lines.push(
    `### Targets${judged ? '' : ' (smoke mode: not judged)'}`,
    '',
    '| target | value (median) | met |',
    '|---|---|---|',
    ...measured.map((t) => `| ${t.target} | ${t.value} | ${t.met === null ? '-' : t.met ? 'yes' : '**no**'} |`),
    '',
  );
  if (agg.compare) {
    const c = agg.compare;
    const row = (name: string, now: Figure | undefined, then: Figure | undefined, ratio: Figure | undefined, d = 2) =>
      `| ${name} | ${cell(then, d)} | ${cell(now, d)} | ${ratio ? fmt(ratio.median) : 'n/a'} |`;
    lines.push(
      `### This checkout against ${c.label} (${c.root}), same runs`,
      '',
      `| figure | ${c.label} | this checkout | this / ${c.label} (per run, median) |`,
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
  if (jobsReport) lines.push(...renderJobs(jobsReport, runs, judged));
  return lines.join('\n');
}
