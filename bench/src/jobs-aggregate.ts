import { figure, fmt, medianOf, type Figure, type Verdict } from './aggregate.js';
import type { Checks, JobsScenarioOptions, JobsScenarioResult, Measured } from './jobs-scenario.js';

/**
 * The jobs scenarios' figures over the runs (medians, spreads, per-run values), the ratios to raw
 * BullMQ per run, the cost per job, the scaling curve, the checks summed over every run, and the
 * targets of issue 19 judged (not in smoke mode). No I/O.
 */
export interface JobsTargets {
  noopVsRaw: number;
  threadVsRaw: number;
  activeP50Ms: number;
  activeP99Ms: number;
  terminalP99Ms: number;
  progressPerSecond: number;
  progressP99Ms: number;
}
export const JOBS_TARGETS: JobsTargets = { noopVsRaw: 0.33, threadVsRaw: 0.25, activeP50Ms: 5, activeP99Ms: 25, terminalP99Ms: 50, progressPerSecond: 20_000, progressP99Ms: 25 };

type CostKey = 'raw' | 'noop' | 'thread';

function costOf(runs: readonly JobsScenarioResult[], key: CostKey) {
  const pick = (f: (m: Measured) => number | undefined, digits = 1) => figure(runs.map((r) => f(r[key])), digits);
  const groups = key === 'raw' ? ['workers', 'producer', 'redis'] : ['hubs', 'workers', 'redis', 'clients'];
  return {
    jobsPerSecond: pick((m) => m.jobsPerSecond, 0),
    jobs: pick((m) => m.jobs, 0),
    cpuUsPerJob: Object.fromEntries(groups.map((g) => [g, pick((m) => m.cpu.usPerJob[g])])),
    cpuPercent: Object.fromEntries(groups.map((g) => [g, pick((m) => m.cpu.percent[g], 0)])),
    redisReadsPerJob: pick((m) => m.redis.readsPerJob, 2),
    redisCommandsPerJob: pick((m) => m.redis.commandsPerJob, 2),
    redisScriptCallsPerJob: pick((m) => m.redis.scriptCallsPerJob, 2),
    /** From the first run: which commands Redis ran most, per job. */
    topCommands: runs[0]![key].redis.top.map(([name, n]) => [name, Math.round(n * 100) / 100] as [string, number]),
  };
}

function sumChecks(list: readonly Checks[]): Checks {
  const sum = (k: Exclude<keyof Checks, 'firstError'>) => list.reduce((s, c) => s + c[k], 0);
  return {
    errors: sum('errors'),
    firstError: list.map((c) => c.firstError).find(Boolean) ?? '',
    missing: sum('missing'),
    duplicates: sum('duplicates'),
    stale: sum('stale'),
    snapshotOnly: sum('snapshotOnly'),
    leftWaiting: sum('leftWaiting'),
    leftActive: sum('leftActive'),
  };
}

export function aggregateJobs(runs: readonly JobsScenarioResult[], setup: JobsScenarioOptions, mode: 'full' | 'quick' | 'smoke') {
  const f = (pick: (r: JobsScenarioResult) => number | undefined, digits = 1) => figure(runs.map(pick), digits);
  const ratio = (pick: (r: JobsScenarioResult) => number) => f((r) => (r.raw.jobsPerSecond ? pick(r) / r.raw.jobsPerSecond : undefined), 3);
  const workerCounts = [...new Set(runs.flatMap((r) => r.scaling.workers.map((w) => w.n)))].sort((a, b) => a - b);
  const hubCounts = [...new Set(runs.flatMap((r) => r.scaling.hubs.map((h) => h.n)))].sort((a, b) => a - b);
  const report = {
    setup,
    throughput: {
      raw: costOf(runs, 'raw'),
      noop: costOf(runs, 'noop'),
      thread: costOf(runs, 'thread'),
      noopVsRaw: ratio((r) => r.noop.jobsPerSecond),
      threadVsRaw: ratio((r) => r.thread.jobsPerSecond),
      noopAtMaxTerminalP50Ms: f((r) => r.noop.terminalP50Ms, 2),
      noopAtMaxTerminalP99Ms: f((r) => r.noop.terminalP99Ms, 2),
    },
    latency: {
      targetPerSecond: f((r) => r.latency.targetPerSecond, 0),
      achievedPerSecond: f((r) => r.latency.achievedPerSecond, 0),
      activeP50Ms: f((r) => r.latency.activeP50Ms, 2),
      activeP99Ms: f((r) => r.latency.activeP99Ms, 2),
      terminalP50Ms: f((r) => r.latency.terminalP50Ms, 2),
      terminalP99Ms: f((r) => r.latency.terminalP99Ms, 2),
      answerP50Ms: f((r) => r.latency.answerP50Ms, 2),
      answerP99Ms: f((r) => r.latency.answerP99Ms, 2),
      /** Where enqueue → active goes (absent from results of builds before it was measured). */
      segments: Object.fromEntries(
        (['recordP50Ms', 'recordP99Ms', 'pickupP50Ms', 'pickupP99Ms', 'deliveryP50Ms', 'deliveryP99Ms'] as const).map((k) => [k, f((r) => r.latency.segments?.[k] ?? Number.NaN, 2)]),
      ),
    },
    progress: {
      jobs: f((r) => r.progress.jobs, 0),
      seconds: f((r) => r.progress.seconds, 1),
      watchersPerJob: setup.progress.watchers,
      /** What the workers offer: every job's ~10 reports a second, to each of its watchers. */
      offeredPerSecond: f((r) => r.progress.jobs * 10 * r.progress.watchersPerJob, 0),
      updatesPerSecond: f((r) => r.progress.updatesPerSecond, 0),
      perWatcherPerSecond: f((r) => r.progress.perWatcherPerSecond, 2),
      p50Ms: f((r) => r.progress.p50Ms, 2),
      p99Ms: f((r) => r.progress.p99Ms, 2),
      cpuPercent: Object.fromEntries(['hubs', 'workers', 'redis', 'clients'].map((g) => [g, f((r) => r.progress.cpu.percent[g], 0)])),
    },
    scaling: {
      workers: workerCounts.map((n) => {
        const at = (r: JobsScenarioResult) => r.scaling.workers.find((w) => w.n === n);
        return {
          n,
          jobsPerSecond: f((r) => at(r)?.jobsPerSecond, 0),
          rawJobsPerSecond: f((r) => at(r)?.rawJobsPerSecond, 0),
          ratio: f((r) => (at(r)?.rawJobsPerSecond ? at(r)!.jobsPerSecond / at(r)!.rawJobsPerSecond : undefined), 3),
        };
      }),
      hubs: hubCounts.map((n) => ({ n, jobsPerSecond: f((r) => r.scaling.hubs.find((h) => h.n === n)?.jobsPerSecond, 0) })),
    },
    checks: {
      noop: sumChecks(runs.map((r) => r.noop.checks)),
      thread: sumChecks(runs.map((r) => r.thread.checks)),
      latency: sumChecks(runs.map((r) => r.latency.checks)),
      progress: sumChecks(runs.map((r) => r.progress.checks)),
      raw: { lost: runs.reduce((s, r) => s + r.raw.lost, 0), leftWaiting: runs.reduce((s, r) => s + r.raw.leftWaiting, 0), leftActive: runs.reduce((s, r) => s + r.raw.leftActive, 0) },
    },
    terminalExactlyOnce: runs.every((r) => r.terminalExactlyOnce),
    /** Per run: what hub nodes and workers logged at warn or error. */
    warnings: runs.map((r) => r.warnings),
  };
  const judged = mode !== 'smoke';
  const t = JOBS_TARGETS;
  const verdict = (target: string, value: Figure | undefined, ok: (v: number) => boolean, unit = '', digits = 2): Verdict => ({
    target,
    value: `${fmt(medianOf(value), digits)}${unit}`,
    met: !judged || value === undefined ? null : ok(value.median),
  });
  const targets: Verdict[] = [
    verdict(`jobs: noop end to end ≥ ${t.noopVsRaw}x raw BullMQ (same run, median of per-run ratios)`, report.throughput.noopVsRaw, (v) => v >= t.noopVsRaw, 'x', 3),
    verdict(`jobs: thread end to end ≥ ${t.threadVsRaw}x raw BullMQ`, report.throughput.threadVsRaw, (v) => v >= t.threadVsRaw, 'x', 3),
    verdict(`jobs: enqueue → active p50 ≤ ${t.activeP50Ms} ms at half the noop maximum`, report.latency.activeP50Ms, (v) => v <= t.activeP50Ms, ' ms'),
    verdict(`jobs: enqueue → active p99 ≤ ${t.activeP99Ms} ms at half the noop maximum`, report.latency.activeP99Ms, (v) => v <= t.activeP99Ms, ' ms'),
    verdict(`jobs: enqueue → terminal p99 ≤ ${t.terminalP99Ms} ms at half the noop maximum`, report.latency.terminalP99Ms, (v) => v <= t.terminalP99Ms, ' ms'),
    verdict(`jobs: progress updates delivered ≥ ${fmt(t.progressPerSecond)}/s`, report.progress.updatesPerSecond, (v) => v >= t.progressPerSecond, '/s', 0),
    verdict(`jobs: progress worker → watcher p99 ≤ ${t.progressP99Ms} ms`, report.progress.p99Ms, (v) => v <= t.progressP99Ms, ' ms'),
    {
      target: 'jobs: every watcher saw exactly one terminal update per job; none stuck active (every run)',
      value: report.terminalExactlyOnce ? 'yes' : 'no',
      met: report.terminalExactlyOnce,
    },
  ];
  return { ...report, targets };
}

export type JobsAggregate = ReturnType<typeof aggregateJobs>;
