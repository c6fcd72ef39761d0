import { figure, fmt, medianOf, type Figure, type Verdict } from './aggregate.js';
import type { FanoutStack } from './fanout-stack.js';
import type { ModerateOptions, ModeratePoint } from './moderate.js';

/**
 * The moderate-rate scenario's figures (moderate.ts) over the runs, and the issue-17 targets:
 * at every client count, Switchboard's p99 ≤ 1.5x the raw `ws` limit's and p50 ≤ 1.5x its p50
 * (median of the per-run ratios), and p99 below Socket.IO's. No I/O.
 */

const pick = (run: readonly ModeratePoint[], stack: FanoutStack, clients: number, checkout?: string) =>
  run.find((p) => p.stack === stack && p.clients === clients && p.checkout === checkout);

export interface ModerateRow {
  stack: FanoutStack;
  checkout?: string;
  clients: number;
  p50Ms?: Figure;
  p99Ms?: Figure;
  p999Ms?: Figure;
  deliveredRatio?: Figure;
  serverCpu?: Figure;
  clientCpu?: Figure;
  /** Switchboard: publish → arrival at the hub nodes (Redis hop), p50 / p99. */
  arrivalP50Ms?: Figure;
  arrivalP99Ms?: Figure;
  /** Per-run ratios to the raw `ws` limit and to Socket.IO at the same client count. */
  p50VsRaw?: Figure;
  p99VsRaw?: Figure;
  p99VsSocketIo?: Figure;
}

export function aggregateModerate(runs: readonly (readonly ModeratePoint[])[], opts: ModerateOptions, judged: boolean) {
  const keys = new Map<string, { stack: FanoutStack; clients: number; checkout: string | undefined }>();
  for (const run of runs) for (const p of run) keys.set(`${p.clients} ${p.stack} ${p.checkout ?? ''}`, { stack: p.stack, clients: p.clients, checkout: p.checkout });
  const rows: ModerateRow[] = [...keys.values()].map(({ stack, clients, checkout }) => {
    const of = (f: (p: ModeratePoint) => number | undefined, digits = 2) => figure(runs.map((r) => { const p = pick(r, stack, clients, checkout); return p ? f(p) : undefined; }), digits);
    const vs = (other: FanoutStack, f: (p: ModeratePoint) => number) =>
      figure(
        runs.map((r) => {
          const a = pick(r, stack, clients, checkout);
          const b = pick(r, other, clients);
          return a && b && f(b) ? f(a) / f(b) : undefined;
        }),
        2,
      );
    const row: ModerateRow = {
      stack,
      clients,
      p50Ms: of((p) => p.phase.p50Ms),
      p99Ms: of((p) => p.phase.p99Ms),
      p999Ms: of((p) => p.phase.p999Ms),
      deliveredRatio: of((p) => p.phase.deliveredRatio, 4),
      serverCpu: of((p) => p.phase.cpu.servers, 0),
      clientCpu: of((p) => p.phase.cpu.clients, 0),
      arrivalP50Ms: of((p) => p.arrival?.p50Ms),
      arrivalP99Ms: of((p) => p.arrival?.p99Ms),
    };
    if (checkout) row.checkout = checkout;
    if (stack !== 'raw-ws') {
      row.p50VsRaw = vs('raw-ws', (p) => p.phase.p50Ms);
      row.p99VsRaw = vs('raw-ws', (p) => p.phase.p99Ms);
    }
    if (stack !== 'socketio' && stack !== 'raw-ws') row.p99VsSocketIo = vs('socketio', (p) => p.phase.p99Ms);
    return row;
  });
  rows.sort((a, b) => a.clients - b.clients || order(a) - order(b));
  const verdict = (target: string, value: number | undefined, ok: (v: number) => boolean): Verdict => ({
    target,
    value: value === undefined ? 'n/a' : `${fmt(value, 2)}x`,
    met: !judged || value === undefined ? null : ok(value),
  });
  const targets: Verdict[] = [];
  for (const clients of opts.clients) {
    const sb = rows.find((r) => r.stack === 'switchboard-json' && r.clients === clients && !r.checkout);
    if (!sb) continue;
    const rate = `${fmt(opts.ratePerSecond, 0)}/s, C = ${fmt(clients, 0)}`;
    targets.push(verdict(`moderate rate (${rate}): p99 ≤ 1.5x the raw ws limit's (median of per-run ratios)`, medianOf(sb.p99VsRaw), (v) => v <= 1.5));
    targets.push(verdict(`moderate rate (${rate}): p50 ≤ 1.5x the raw ws limit's`, medianOf(sb.p50VsRaw), (v) => v <= 1.5));
    targets.push(verdict(`moderate rate (${rate}): p99 below Socket.IO's (ratio)`, medianOf(sb.p99VsSocketIo), (v) => v < 1));
  }
  return { setup: opts, rows, targets };
}

const ORDER: FanoutStack[] = ['switchboard-json', 'switchboard-msgpack', 'socketio', 'raw-ws'];
const order = (r: ModerateRow) => ORDER.indexOf(r.stack) + (r.checkout ? 0.5 : 0);

export type ModerateAggregate = ReturnType<typeof aggregateModerate>;

/** The markdown section of the moderate-rate scenario. */
export function renderModerate(agg: ModerateAggregate, runs: number): string[] {
  const cell = (f: Figure | undefined, d = 2, unit = '') => (f ? `${fmt(f.median, d)}${unit}${runs > 1 ? ` ±${fmt(f.spreadPercent, 0)}%` : ''}` : 'n/a');
  const name: Record<FanoutStack, string> = { 'switchboard-json': 'Switchboard, JSON', 'switchboard-msgpack': 'Switchboard, MessagePack', socketio: 'Socket.IO 4', 'raw-ws': 'limit: raw `ws` groups' };
  const { setup } = agg;
  return [
    `## Moderate rate: ${fmt(setup.ratePerSecond, 0)} deliveries/s (groups of C/${setup.groups}, ${fmt(setup.warmupMs, 0)} ms warm-up + ${fmt(setup.measureMs, 0)} ms measured)`,
    '',
    '| C | stack | p50 ms | p99 ms | p99.9 ms | p50 / raw | p99 / raw | p99 / Socket.IO | publish → hub arrival p50 / p99 ms | delivered / expected | server CPU % | client CPU % |',
    '|---|---|---|---|---|---|---|---|---|---|---|---|',
    ...agg.rows.map(
      (r) =>
        `| ${fmt(r.clients, 0)} | ${name[r.stack]}${r.checkout ? ` (${r.checkout})` : ''} | ${cell(r.p50Ms)} | ${cell(r.p99Ms)} | ${cell(r.p999Ms)} | ${cell(r.p50VsRaw)} | ${cell(r.p99VsRaw)} | ${cell(r.p99VsSocketIo)} | ${r.arrivalP50Ms ? `${fmt(r.arrivalP50Ms.median)} / ${fmt(r.arrivalP99Ms?.median)}` : '—'} | ${cell(r.deliveredRatio, 4)} | ${cell(r.serverCpu, 0)} | ${cell(r.clientCpu, 0)} |`,
    ),
    '',
    ...agg.targets.map((t) => `- ${t.met === null ? '·' : t.met ? '✓' : '✗'} ${t.target}: ${t.value}`),
    '',
  ];
}
