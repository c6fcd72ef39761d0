import type { FanoutResult, FanoutStack, RatePhase } from './fanout.js';
import type { IdleResult, IdleStack } from './idle.js';
import { aggregateJobs } from './jobs-aggregate.js';
import type { JobsScenarioOptions, JobsScenarioResult } from './jobs-scenario.js';
import type { ModeratePoint } from './moderate.js';
import { median, round, spreadPercent } from './stats.js';

/**
 * From the runs' raw results to the report's figures: medians, spreads and per-run values of
 * every figure, the ratios between stacks, the targets judged, and the before/after pairs of
 * `--compare`. No I/O: bench/src/main.ts runs the scenarios and writes what this returns.
 */

export interface CompareRun {
  fanout: Partial<Record<'switchboard-json' | 'switchboard-msgpack', FanoutResult>>;
  idle?: IdleResult;
}

export interface Run {
  compare?: CompareRun;
  load: { before: number; after: number };
  /** `cpuSpeedMs()` at the start of the run (lower is faster). */
  cpuSpeedMs: number;
  fanout: Partial<Record<FanoutStack | 'redis', FanoutResult>>;
  idle: Partial<Record<IdleStack, IdleResult>>;
  jobs?: JobsScenarioResult;
  /** The moderate-rate points (moderate.ts), this checkout's and `--compare`'s. */
  moderate?: ModeratePoint[];
}

export interface Figure {
  median: number;
  spreadPercent: number;
  runs: number[];
}
export function figure(values: (number | undefined)[], digits = 1): Figure | undefined {
  const v = values.filter((x): x is number => x !== undefined && Number.isFinite(x));
  if (!v.length) return undefined;
  return { median: round(median(v), digits), spreadPercent: round(spreadPercent(v)), runs: v.map((x) => round(x, digits)) };
}

/** A figure's median, or undefined for a figure nobody measured. */
export const medianOf = (f: Figure | undefined) => f?.median;

/** A number for a table: grouped thousands, at most `d` decimals; 'n/a' for none. */
export const fmt = (n: number | undefined, d = 2) => (n === undefined ? 'n/a' : n.toLocaleString('en-US', { maximumFractionDigits: d }));

export type Verdict = { target: string; value: string; met: boolean | null };

/** Every fan-out stack but the Redis limit, in report order. */
export const FANOUT_STACKS: readonly FanoutStack[] = ['switchboard-json', 'switchboard-msgpack', 'socketio', 'raw-ws'];

export interface AggregateOptions {
  readonly mode: 'full' | 'quick' | 'smoke';
  /** Connections measured in the idle scenario. */
  readonly idleConnections: number;
  readonly jobs: JobsScenarioOptions;
  /** `--compare`: the other checkout, and its label. */
  readonly compareRoot?: string;
  readonly compareLabel: string;
}

/** The report's figures from every run's results (see the module comment). */
export function aggregate(results: readonly Run[], opts: AggregateOptions) {
  const { compareRoot, compareLabel } = opts;
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

  const fanoutReport = Object.fromEntries(
    [...FANOUT_STACKS, 'redis' as const]
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
          connections: opts.idleConnections,
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

  const judged = opts.mode !== 'smoke';
  const verdict = (target: string, value: number | undefined, ok: (v: number) => boolean, unit = '', digits = 2): Verdict => ({
    target,
    value: `${fmt(value, digits)}${unit}`,
    met: !judged || value === undefined ? null : ok(value),
  });
  const sbP99 = Math.max(medianOf(fanoutReport['switchboard-json']?.halfLoad.p99Ms) ?? NaN, medianOf(fanoutReport['switchboard-msgpack']?.halfLoad.p99Ms) ?? NaN);
  const lossAtRate = Math.min(
    ...(['switchboard-json', 'switchboard-msgpack'] as const).flatMap((s) =>
      results.flatMap((r) => [r.fanout[s]?.halfLoad?.deliveredRatio, r.fanout[s]?.quarterLoad?.deliveredRatio, r.fanout[s]?.commonLoad?.deliveredRatio].filter((x): x is number => x !== undefined)),
    ),
  );
  const targets: Verdict[] = [
    verdict('fan-out JSON ≥ 2x Socket.IO (same run, median of per-run ratios)', medianOf(ratios.jsonVsSocketIo), (v) => v >= 2, 'x'),
    verdict('fan-out MessagePack ≥ 2x Socket.IO', medianOf(ratios.msgpackVsSocketIo), (v) => v >= 2, 'x'),
    verdict('fan-out JSON ≥ 70% of the raw ws limit', medianOf(ratios.jsonVsRawWs), (v) => v >= 0.7, 'x'),
    verdict('fan-out MessagePack ≥ 70% of the raw ws limit', medianOf(ratios.msgpackVsRawWs), (v) => v >= 0.7, 'x'),
    verdict('p99 at half load below Socket.IO’s (JSON, ratio)', medianOf(ratios.jsonP99HalfLoadVsSocketIo), (v) => v < 1, 'x'),
    verdict('p99 at half load below Socket.IO’s (MessagePack, ratio)', medianOf(ratios.msgpackP99HalfLoadVsSocketIo), (v) => v < 1, 'x'),
    verdict('p99 at half load < 20 ms (worse of JSON / MessagePack)', Number.isFinite(sbP99) ? sbP99 : undefined, (v) => v < 20, ' ms'),
    verdict('idle memory per connection ≤ half of Socket.IO’s (ratio)', medianOf(idleRatio), (v) => v <= 0.5, 'x'),
    verdict('idle memory per connection < 12 KB', medianOf(idleReport['switchboard']?.bytesPerConnection), (v) => v < 12 * 1024, ' B', 0),
    verdict('no loss at the fixed rates (lowest delivered/expected, every run)', Number.isFinite(lossAtRate) ? lossAtRate : undefined, (v) => v >= 1, '', 4),
  ];

  const jobsRuns = results.map((r) => r.jobs).filter((j): j is JobsScenarioResult => j !== undefined);
  const jobsReport = jobsRuns.length ? aggregateJobs(jobsRuns, opts.jobs, opts.mode) : undefined;

  return {
    fanout: fanoutReport,
    ratios,
    idle: idleReport,
    targets,
    jobs: jobsReport,
    compare: compareRoot ? compareReport() : undefined,
  };
}

/** What `aggregate` returns. */
export type Aggregate = ReturnType<typeof aggregate>;
