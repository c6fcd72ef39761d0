import { fmt, type Figure } from './aggregate.js';
import type { JobsAggregate } from './jobs-aggregate.js';

/** The jobs section of the markdown report (bench/README.md, "Jobs", explains how to read it). */
export function renderJobs(j: JobsAggregate, runs: number, judged: boolean): string[] {
  const cell = (f: Figure | undefined, d = 2, unit = '') => (f ? `${fmt(f.median, d)}${unit}${runs > 1 ? ` ±${fmt(f.spreadPercent, 0)}%` : ''}` : 'n/a');
  const s = j.setup;
  const t = j.throughput;
  const cpu = (c: Record<string, Figure | undefined>, keys: string[], d = 0) => keys.map((k) => fmt(c[k]?.median, d)).join(' / ');
  const row = (name: string, m: JobsAggregate['throughput']['raw'], ratio: string, groups: string[]) =>
    `| ${name} | ${cell(m.jobsPerSecond, 0)} | ${ratio} | ${fmt(m.jobs?.median, 0)} | ${cpu(m.cpuUsPerJob, groups, 1)} | ${cpu(m.cpuPercent, groups)} | ${cell(m.redisReadsPerJob)} | ${cell(m.redisCommandsPerJob)} | ${cell(m.redisScriptCallsPerJob)} |`;
  const sb = ['hubs', 'workers', 'redis', 'clients'];
  const lat = j.latency;
  const p = j.progress;
  const checkRow = (name: string, c: JobsAggregate['checks']['noop']) =>
    `| ${name} | ${c.errors} | ${c.missing} | ${c.duplicates} | ${c.leftActive} | ${c.leftWaiting} | ${c.stale} | ${c.snapshotOnly} |${c.firstError ? ` ${c.firstError.slice(0, 160).replace(/\|/g, '\\|')}` : ''} |`;
  return [
    `### Jobs: the pipeline against raw BullMQ (same run, same Redis, ${s.workers} worker processes × concurrency ${s.concurrency})`,
    '',
    `Raw BullMQ: one producer adding in bulk (\`addBulk\` of up to ${s.bullBatch}, at most ${fmt(s.bullWindow)} jobs not completed), no-op processors, completions counted by the workers. ` +
      `Switchboard: ${s.clientProcesses} client process(es) × ${s.connectionsPerProcess} connections to ${s.hubs} hub nodes enqueue with \`{ watch: true }\` (at most ${fmt(s.window)} jobs not yet terminal); a job counts when its terminal update reaches its watcher; workers with WORKER_CONCURRENCY=${s.concurrency}, POOL_SIZE=${s.poolSize}. ` +
      `Each measurement: ${s.warmupMs / 1000} s warm-up, ${s.measureMs / 1000} s measured. CPU from /proc (µs per job, and % of one core; the machine's cores are shared by every process); Redis from INFO before/after (reads ≈ round trips; commands include those run inside scripts).`,
    '',
    '| pipeline | jobs/s | ratio to raw BullMQ | jobs measured | CPU µs/job: hubs / workers / Redis / clients (raw: workers / producer / Redis) | CPU % of a core, same order | Redis reads/job | Redis commands/job | script calls/job |',
    '|---|---|---|---|---|---|---|---|---|',
    row('raw BullMQ, no-op processor (the limit)', t.raw, '1', ['workers', 'producer', 'redis']),
    row('Switchboard `noop` (returns at once)', t.noop, cell(t.noopVsRaw, 3, 'x'), sb),
    row('Switchboard `thread` (tiny task via `ctx.run`)', t.thread, cell(t.threadVsRaw, 3, 'x'), sb),
    '',
    `At the maximum the window of jobs in flight queues them: noop enqueue → terminal p50 ${cell(t.noopAtMaxTerminalP50Ms)} ms, p99 ${cell(t.noopAtMaxTerminalP99Ms)} ms.`,
    '',
    'Redis commands per job, most frequent first (first run; commands inside scripts included):',
    '',
    '| pipeline | commands per job |',
    '|---|---|',
    ...(['raw', 'noop', 'thread'] as const).map((k) => `| ${k} | ${t[k].topCommands.map(([name, n]) => `${name} ${n}`).join(', ')} |`),
    '',
    `### Jobs: latency at half the noop maximum (open loop, \`noop\`)`,
    '',
    '| rate asked / achieved, jobs/s | enqueue → `active` at the watcher, p50 / p99 ms | enqueue → terminal, p50 / p99 ms | enqueue answered (with the snapshot), p50 / p99 ms |',
    '|---|---|---|---|',
    `| ${cell(lat.targetPerSecond, 0)} / ${cell(lat.achievedPerSecond, 0)} | ${cell(lat.activeP50Ms)} / ${cell(lat.activeP99Ms)} | ${cell(lat.terminalP50Ms)} / ${cell(lat.terminalP99Ms)} | ${cell(lat.answerP50Ms)} / ${cell(lat.answerP99Ms)} |`,
    '',
    'Where enqueue → `active` goes, p50 / p99 ms (wall clocks of client, hub and worker on this machine, ms resolution, so each figure is ±1 ms): the send to the hub\'s record (`createdAt`), the record to the worker\'s start (`startedAt`: BullMQ hands the job over), the start to the watcher (the worker\'s write and publish, the hub node, the socket).',
    '',
    '| send → record | record → worker start | worker start → watcher |',
    '|---|---|---|',
    `| ${cell(lat.segments.recordP50Ms)} / ${cell(lat.segments.recordP99Ms)} | ${cell(lat.segments.pickupP50Ms)} / ${cell(lat.segments.pickupP99Ms)} | ${cell(lat.segments.deliveryP50Ms)} / ${cell(lat.segments.deliveryP99Ms)} |`,
    '',
    `### Jobs: progress (${fmt(p.jobs?.median, 0)} jobs running at once, each reporting every 20 ms, coalesced by the worker to 10/s; each watched by ${p.watchersPerJob} connections, alternating hub nodes)`,
    '',
    '| progress updates delivered/s (all watchers) / offered (jobs × 10/s × watchers) | per watcher and job, /s | worker → watcher p50 / p99 ms (wall clock, ms resolution) | CPU % of a core: hubs / workers / Redis / clients | seconds measured |',
    '|---|---|---|---|---|',
    `| ${cell(p.updatesPerSecond, 0)} / ${cell(p.offeredPerSecond, 0)} | ${cell(p.perWatcherPerSecond)} | ${cell(p.p50Ms)} / ${cell(p.p99Ms)} | ${cpu(p.cpuPercent, sb)} | ${cell(p.seconds, 1)} |`,
    '',
    '### Jobs: scaling out (`noop` at the maximum)',
    '',
    '| worker processes | Switchboard jobs/s | raw BullMQ jobs/s | ratio |',
    '|---|---|---|---|',
    ...j.scaling.workers.map((w) => `| ${w.n} | ${cell(w.jobsPerSecond, 0)} | ${cell(w.rawJobsPerSecond, 0)} | ${cell(w.ratio, 3)} |`),
    '',
    `| hub nodes (${s.workers} workers) | Switchboard jobs/s |`,
    '|---|---|',
    ...j.scaling.hubs.map((h) => `| ${h.n} | ${cell(h.jobsPerSecond, 0)} |`),
    '',
    '### Jobs: checks (summed over the runs)',
    '',
    'The first five columns must be 0 (the run fails otherwise). Stale: live updates whose `seq` was not above one already seen, which clients drop (a repeat, such as the snapshot a hub node pushes after its backplane reconnects). Snapshot only: a job whose enqueuer (in its group before the job existed) learnt the end from the enqueue answer alone; the live update should follow.',
    '',
    '| phase | errors | watchers without a terminal update | a second terminal update, or one after it | left active in BullMQ | left waiting | stale (dropped by seq) | snapshot only | first error |',
    '|---|---|---|---|---|---|---|---|---|',
    checkRow('noop at the maximum', j.checks.noop),
    checkRow('thread at the maximum', j.checks.thread),
    checkRow('noop at half', j.checks.latency),
    checkRow('progress', j.checks.progress),
    `| raw BullMQ | | lost: ${j.checks.raw.lost} | | ${j.checks.raw.leftActive} | ${j.checks.raw.leftWaiting} | | | |`,
    '',
    ...(j.warnings.some((w) => w.length) ? [`Hub nodes and workers logged (warn or error), per run: ${j.warnings.map((w) => (w.length ? w.join('; ') : 'nothing')).join(' | ')}`, ''] : []),
    `### Jobs targets${judged ? '' : ' (smoke mode: not judged)'}`,
    '',
    '| target | value (median) | met |',
    '|---|---|---|',
    ...j.targets.map((v) => `| ${v.target} | ${v.value} | ${v.met === null ? '-' : v.met ? 'yes' : '**no**'} |`),
    '',
  ];
}
