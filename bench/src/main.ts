import { writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { runJobsScenario, type JobsScenarioResult } from './jobs-scenario.js';
import { median, round, spreadPercent } from './stats.js';

/**
 * `npm run bench` (full, 3 runs) or `npm run bench -- --quick` (1 small run; what CI runs as a
 * smoke). Every role runs in its own process. Writes bench/results/latest.json and latest.md.
 */
const quick = process.argv.includes('--quick');
const runsArg = process.argv.find((a) => a.startsWith('--runs='));
const runs = runsArg ? Number(runsArg.slice('--runs='.length)) : quick ? 1 : 3;
const scenario = quick
  ? { jobs: 40, progressJobs: 2, watchersPerJob: 3, progressSeconds: 2 }
  : { jobs: 400, progressJobs: 4, watchersPerJob: 10, progressSeconds: 4 };

const results: JobsScenarioResult[] = [];
for (let i = 0; i < runs; i++) {
  process.stderr.write(`bench: jobs scenario, run ${i + 1}/${runs}\n`);
  results.push(await runJobsScenario(scenario));
}

type Key = keyof Omit<JobsScenarioResult, 'terminalExactlyOnce'>;
const figure = (key: Key) => ({ median: round(median(results.map((r) => r[key]))), spreadPercent: round(spreadPercent(results.map((r) => r[key]))), runs: results.map((r) => round(r[key])) });
const report = {
  date: new Date().toISOString(),
  mode: quick ? 'quick' : 'full',
  machine: { cpus: cpus().length, cpuModel: cpus()[0]?.model, memoryGiB: round(totalmem() / 2 ** 30), node: process.version },
  jobs: {
    setup: { hubNodes: 2, workerProcesses: 2, poolSizePerWorker: 1, concurrencyPerWorker: 8, ...scenario },
    jobsPerSecond: figure('jobsPerSecond'),
    jobLatencyP50Ms: figure('jobLatencyP50Ms'),
    jobLatencyP99Ms: figure('jobLatencyP99Ms'),
    progressUpdatesDeliveredPerSecond: figure('progressUpdatesDeliveredPerSecond'),
    maxUpdatesPerSecondPerJob: figure('maxUpdatesPerSecondPerJob'),
    terminalExactlyOnce: results.every((r) => r.terminalExactlyOnce),
  },
};

const rows: [string, { median: number; spreadPercent: number; runs: number[] }][] = [
  ['jobs/s end to end (enqueue → terminal update at the watcher)', report.jobs.jobsPerSecond],
  ['job latency p50 (ms)', report.jobs.jobLatencyP50Ms],
  ['job latency p99 (ms)', report.jobs.jobLatencyP99Ms],
  ['progress updates delivered/s (all watchers)', report.jobs.progressUpdatesDeliveredPerSecond],
  ['max progress updates/s for one job (coalescing cap ~10)', report.jobs.maxUpdatesPerSecondPerJob],
];
const md = [
  `Jobs pipeline, ${report.mode} mode, ${runs} run(s), ${report.date}: ${report.machine.cpus} CPUs (${report.machine.cpuModel}), Node ${report.machine.node}`,
  `Setup: 2 hub nodes, 2 worker processes (1 thread, concurrency 8 each), private Redis; ${scenario.jobs} hash jobs of 1,000 rounds, each enqueued and watched by one of 20 clients; then ${scenario.progressJobs} long jobs with ${scenario.watchersPerJob} watchers each.`,
  '',
  '| figure | median | spread | runs |',
  '|---|---|---|---|',
  ...rows.map(([name, f]) => `| ${name} | ${f.median} | ±${f.spreadPercent}% | ${f.runs.join(', ')} |`),
  `| terminal update at most once per watcher | ${report.jobs.terminalExactlyOnce ? 'yes' : 'NO'} | | |`,
  '',
].join('\n');
const dir = new URL('../results/', import.meta.url);
writeFileSync(new URL('latest.json', dir), `${JSON.stringify(report, null, 2)}\n`);
writeFileSync(new URL('latest.md', dir), md);
console.log(md);
