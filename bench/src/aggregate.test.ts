import { describe, expect, it } from 'vitest';
import { aggregate, type Run } from './aggregate.js';
import type { FanoutResult, FanoutStack, RatePhase } from './fanout.js';
import type { IdleResult, IdleStack } from './idle.js';
import type { JobsScenarioResult } from './jobs-scenario.js';
import { renderMarkdown, type ReportHeader } from './report-markdown.js';

const cpu = { servers: 80, clients: 50, publisher: 20, redis: 2 };

function phase(targetPerSecond: number, p99Ms: number, deliveredRatio = 1): RatePhase {
  return { targetPerSecond, deliveredPerSecond: targetPerSecond, p50Ms: p99Ms / 2, p99Ms, p999Ms: p99Ms + 1, maxMs: p99Ms + 2, deliveredRatio, samples: 1000, cpu, serverUsPerDelivery: 1 };
}

function fanout(stack: FanoutStack, max: number, halfP99: number): FanoutResult {
  return {
    stack,
    maxDeliveredPerSecond: max,
    maxPublishedPerSecond: max / 100,
    maxDeliveredRatio: 1,
    maxCpu: cpu,
    serverUsPerDelivery: 0.5,
    clientUsPerDelivery: 0.3,
    halfLoad: phase(max / 2, halfP99),
    ...(stack.startsWith('switchboard') ? { quarterLoad: phase(max / 4, halfP99 - 1), commonLoad: phase(100_000, 3) } : {}),
  };
}

function idle(stack: IdleStack, bytesPerConnection: number): IdleResult {
  return { stack, connections: 1000, rssBeforeBytes: 0, rssAfterBytes: bytesPerConnection * 1000, bytesPerConnection, heapBytesPerConnection: bytesPerConnection - 100 };
}

/** A run where Switchboard delivers `sb` msg/s with p99 `sbP99` at half load, Socket.IO 200k with 10 ms. */
function run(sb: number, sbP99: number): Run {
  return {
    load: { before: 1, after: 2 },
    cpuSpeedMs: 50,
    fanout: {
      'switchboard-json': fanout('switchboard-json', sb, sbP99),
      'switchboard-msgpack': fanout('switchboard-msgpack', sb, sbP99),
      socketio: fanout('socketio', 200_000, 10),
      'raw-ws': fanout('raw-ws', 250_000, 2),
    },
    idle: { switchboard: idle('switchboard', 5000), socketio: idle('socketio', 12_000) },
  };
}

const jobsSetup = {
  warmupMs: 1,
  measureMs: 1,
  firstWarmupMs: 1,
  drainMs: 1,
  workers: 2,
  concurrency: 50,
  poolSize: 1,
  hubs: 2,
  clientProcesses: 2,
  connectionsPerProcess: 50,
  window: 1000,
  bullWindow: 2000,
  bullBatch: 500,
  progress: { jobs: 1000, watchers: 2, warmupMs: 1, measureMs: 1 },
  scaling: { workers: [1, 2], hubs: [1, 2] },
};
const options = { mode: 'full' as const, idleConnections: 1000, jobs: jobsSetup, compareLabel: 'before' };

describe('aggregate', () => {
  it('reports medians, spreads and per-run values, and the ratios per run then their median', () => {
    const agg = aggregate([run(1_000_000, 8), run(1_200_000, 12), run(1_100_000, 11)], options);
    expect(agg.fanout['switchboard-json']!.maxDeliveredPerSecond).toEqual({ median: 1_100_000, spreadPercent: 18.2, runs: [1_000_000, 1_200_000, 1_100_000] });
    expect(agg.ratios.jsonVsSocketIo).toEqual({ median: 5.5, spreadPercent: 18.2, runs: [5, 6, 5.5] });
    expect(agg.ratios.jsonP99HalfLoadVsSocketIo!.runs).toEqual([0.8, 1.2, 1.1]);
    expect(agg.ratios.idleMemoryVsSocketIo!.median).toBe(0.42);
    expect(agg.compare).toBeUndefined();
  });

  it('judges every target from the medians, and none in smoke mode', () => {
    const agg = aggregate([run(1_000_000, 8), run(1_200_000, 12), run(1_100_000, 11)], options);
    const met = Object.fromEntries(agg.targets.map((t) => [t.target, t.met]));
    expect(met['fan-out JSON ≥ 2x Socket.IO (same run, median of per-run ratios)']).toBe(true);
    expect(met['p99 at half load below Socket.IO’s (JSON, ratio)']).toBe(false); // median of 0.8, 1.2, 1.1
    expect(met['p99 at half load < 20 ms (worse of JSON / MessagePack)']).toBe(true);
    expect(met['idle memory per connection < 12 KB']).toBe(true);
    expect(met['no loss at the fixed rates (lowest delivered/expected, every run)']).toBe(true);
    const smoke = aggregate([run(1_000_000, 8)], { ...options, mode: 'smoke' });
    expect(smoke.targets.every((t) => t.met === null)).toBe(true);
  });

  it('counts a loss at any fixed rate of any run against the no-loss target', () => {
    const lossy = run(1_000_000, 8);
    lossy.fanout['switchboard-msgpack']!.quarterLoad = phase(250_000, 7, 0.999);
    const agg = aggregate([run(1_000_000, 8), lossy], options);
    expect(agg.targets.find((t) => t.target.startsWith('no loss'))).toMatchObject({ met: false, value: '0.999' });
  });

  it('pairs this checkout with --compare figure by figure', () => {
    const runs = [run(1_000_000, 8), run(1_200_000, 12)].map((r, i) => ({
      ...r,
      compare: { fanout: { 'switchboard-json': fanout('switchboard-json', [800_000, 1_000_000][i]!, 16) }, idle: idle('switchboard', 10_000) },
    }));
    const agg = aggregate(runs, { ...options, compareRoot: '/tmp/before' });
    expect(agg.compare!.fanout['switchboard-json']!.maxDeliveredPerSecond.ratio!.runs).toEqual([1.25, 1.2]);
    expect(agg.compare!.fanout['switchboard-msgpack']).toBeUndefined();
    expect(agg.compare!.idle!.rss.ratio!.median).toBe(0.5);
  });
});

describe('renderMarkdown', () => {
  it('writes the header, the fan-out table, the ratios and the targets, with a spread only for several runs', () => {
    const header: ReportHeader = {
      date: '2026-12-05T04:00:00.000Z',
      mode: 'full',
      runs: 2,
      durationSeconds: 300,
      machine: { cpus: 2, cpuModel: 'Test CPU', memoryGiB: 23.5, node: 'v20.20.2' },
      loadAverage: [
        { before: 1, after: 2 },
        { before: 2, after: 3 },
      ],
      cpuSpeedMs: [50, 60],
      versions: { redis: '7.0.15', ws: '8.23.0', ioredis: '6.0.0', 'socket.io': '4.8.4', '@socket.io/redis-adapter': '8.3.0', '@socket.io/redis-emitter': '5.1.0' },
    };
    const agg = aggregate([run(1_000_000, 8), run(1_200_000, 12)], options);
    const setup = {
      fanout: { clients: 1000, groups: 10, clientProcesses: 2, warmupMs: 1, measureMs: 1, rateWarmupMs: 1, rateMs: 1, window: 1 },
      idle: { connections: 1000, groups: 10, clientProcesses: 2, settleMs: 1 },
      jobs: options.jobs,
      tickJsonBytes: 104,
    };
    const md = renderMarkdown(header, agg, setup);
    expect(md).toContain('Benchmark, full mode, 2 run(s), 2026-12-05T04:00:00.000Z, 300 s: 2 vCPUs (Test CPU)');
    expect(md).toContain('Load average (1 min) before/after each run: 1/2, 2/3.');
    // Two runs: the median is the lower one (nearest rank).
    expect(md).toContain('| Switchboard, JSON | 1,000,000 ±20% | 1 ±0% | 4 ±50% / 8 ±50% (at 500,000/s) |');
    expect(md).toContain('| jsonVsSocketIo | 5 | 5, 6 |');
    expect(md).toContain('| p99 at half load below Socket.IO’s (JSON, ratio) | 0.8x | yes |');
    expect(md).toContain('(1,000 connections after 250 warm ones');
    expect(md).not.toContain('This checkout against');
  });
});

describe('jobs', () => {
  const cost = { cpu: { usPerJob: { hubs: 100, workers: 200, redis: 50, clients: 20, producer: 10 }, percent: { hubs: 40, workers: 80, redis: 20, clients: 8, producer: 4 } }, redis: { readsPerJob: 3, commandsPerJob: 30, scriptCallsPerJob: 4, top: [['hset', 5] as [string, number]] } };
  const checks = { errors: 0, firstError: '', missing: 0, duplicates: 0, stale: 0, snapshotOnly: 0, leftWaiting: 0, leftActive: 0 };
  function jobsRun(raw: number, noop: number, thread: number): JobsScenarioResult {
    const measured = (jobsPerSecond: number) => ({ jobsPerSecond, jobs: jobsPerSecond * 10, seconds: 10, ...cost });
    return {
      raw: { ...measured(raw), leftWaiting: 0, leftActive: 0, lost: 0 },
      noop: { ...measured(noop), checks, terminalP50Ms: 100, terminalP99Ms: 200 },
      thread: { ...measured(thread), checks, terminalP50Ms: 150, terminalP99Ms: 300 },
      latency: { targetPerSecond: noop / 2, achievedPerSecond: noop / 2, activeP50Ms: 4, activeP99Ms: 30, terminalP50Ms: 8, terminalP99Ms: 40, answerP50Ms: 2, answerP99Ms: 9, checks },
      progress: { jobs: 1000, seconds: 10, watchersPerJob: 2, updatesPerSecond: 19_000, perWatcherPerSecond: 9.5, p50Ms: 5, p99Ms: 20, cpu: cost.cpu, checks },
      scaling: { workers: [{ n: 1, jobsPerSecond: noop / 2, rawJobsPerSecond: raw / 2 }, { n: 2, jobsPerSecond: noop, rawJobsPerSecond: raw }], hubs: [{ n: 2, jobsPerSecond: noop }] },
      terminalExactlyOnce: true,
      warnings: [],
    };
  }

  it('reports the ratios to raw BullMQ per run, judges the targets and renders the tables', () => {
    const runs = [run(1_000_000, 8), run(1_000_000, 8)].map((r, i) => ({ ...r, jobs: jobsRun(8000, [3000, 2000][i]!, 2400) }));
    const agg = aggregate(runs, options);
    expect(agg.jobs!.throughput.noopVsRaw!.runs).toEqual([0.375, 0.25]);
    const met = Object.fromEntries(agg.jobs!.targets.map((t) => [t.target.split(' ').slice(0, 3).join(' '), t.met]));
    expect(met['jobs: noop end']).toBe(false); // median of 0.375 and 0.25 (nearest rank): 0.25
    expect(met['jobs: thread end']).toBe(true); // 0.3
    expect(met['jobs: progress updates']).toBe(false);
    expect(met['jobs: every watcher']).toBe(true);
    const md = renderMarkdown({ date: 'd', mode: 'full', runs: 2, durationSeconds: 1, machine: { cpus: 2, cpuModel: 'x', memoryGiB: 1, node: 'v20' }, loadAverage: [], cpuSpeedMs: [], versions: { redis: '7', ws: '8', ioredis: '6', 'socket.io': '4', '@socket.io/redis-adapter': '8', '@socket.io/redis-emitter': '5' } }, agg, {
      fanout: { clients: 1000, groups: 10, clientProcesses: 2, warmupMs: 1, measureMs: 1, rateWarmupMs: 1, rateMs: 1, window: 1 },
      idle: { connections: 1000, groups: 10, clientProcesses: 2, settleMs: 1 },
      jobs: jobsSetup,
      tickJsonBytes: 104,
    });
    expect(md).toContain('| raw BullMQ, no-op processor (the limit) | 8,000 ±0% | 1 | 80,000 | 200 / 10 / 50 |');
    expect(md).toContain('| Switchboard `noop` (returns at once) | 2,000 ±50% | 0.25x ±50% |');
    expect(md).toContain('| 1 | 1,000 ±50% | 4,000 ±0% | 0.25 ±50% |');
  });

  it('fails the guarantee when a watcher missed its terminal update', () => {
    const broken = jobsRun(8000, 3000, 2400);
    broken.terminalExactlyOnce = false;
    const agg = aggregate([{ ...run(1_000_000, 8), jobs: broken }], { ...options, mode: 'smoke' });
    expect(agg.jobs!.targets.at(-1)).toMatchObject({ value: 'no', met: false });
  });
});
