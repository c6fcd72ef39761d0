import type { LoopDelay } from './scale-hub.js';
import type { ProbeSummary, ScaleResult } from './scale.js';

export interface ScaleHeader {
  date: string;
  durationSeconds: number;
  command: string;
  machine: { cpus: number; cpuModel: string | undefined; memoryGiB: number; node: string };
  cpuSpeedMs: number;
  loadAverage: { before: number; after: number };
  /** Node counts asked for but not run, with the reason. */
  skipped: { nodes: number; reason: string }[];
}

const int = (n: number) => (Number.isFinite(n) ? Math.round(n).toLocaleString('en-US') : '–');
const ms = (n: number) => (Number.isFinite(n) ? (n < 10 ? n.toFixed(2) : n.toFixed(1)) : '–');
const kb = (n: number) => (Number.isFinite(n) ? `${(n / 1024).toFixed(1)} KB` : '–');
const mb = (n: number) => (Number.isFinite(n) ? `${(n / 2 ** 20).toFixed(0)} MB` : '–');
const pct = (n: number) => (Number.isFinite(n) ? `${n.toFixed(0)}%` : '–');
const probe = (p: ProbeSummary) => `${ms(p.p50Ms)} / ${ms(p.p99Ms)} / ${ms(p.maxMs)} ms (${p.count}, ${p.failures} failed${p.firstError ? `: ${p.firstError.slice(0, 80)}` : ''})`;
const eld = (d: (LoopDelay | null)[]) => d.map((x) => (x ? `${ms(x.p50)} / ${ms(x.p99)} / ${ms(x.max)}` : 'no answer')).join('; ');

/** The one-line verdict on the connection count, e.g. "target 100,000, reached 19,800, limited by RLIMIT_NOFILE = 20,000 per process (hard)". */
export function reachedLine(r: ScaleResult): string {
  return `${r.nodes} node${r.nodes > 1 ? 's' : ''}: target ${int(r.connections.target)}, reached ${int(r.connections.reached)}${r.limitedBy ? `, limited by ${r.limitedBy}` : ''}`;
}

export function renderScale(header: ScaleHeader, results: ScaleResult[]): string {
  const col = (f: (r: ScaleResult) => string) => results.map(f).join(' | ');
  const rows: [string, (r: ScaleResult) => string][] = [
    ['connections: target / used / reached', (r) => `${int(r.connections.target)} / ${int(r.perNode.used * r.nodes)} / **${int(r.connections.reached)}**`],
    ['hub nodes\' own count (after connecting / at the end)', (r) => `${int(r.connections.hubCountAfterConnect)} / ${int(r.connections.hubCountAtEnd)}`],
    ['failed connects / unexpected closes', (r) => `${r.connections.failed} / ${r.connections.unexpectedCloses}${r.connections.firstError ? ` (${r.connections.firstError.slice(0, 80)})` : ''}`],
    ['fd limit of a hub (soft / hard), fds at start', (r) => `${int(r.fdLimit.hubSoft)} / ${int(r.fdLimit.hubHard)}, ${r.fdLimit.hubFdsAtStart.join(', ')}`],
    ['groups × size, client processes, source addresses', (r) => `${r.setup.groups} × ${r.setup.groupSize}, ${r.setup.clientProcesses}, ${r.setup.sourceAddresses.length} (${r.setup.sourceAddresses[0]}…)`],
    ['connect rate (main batch)', (r) => `${int(r.connections.connectPerSecond)}/s (${int(r.connections.reached - r.setup.warmConnections)} in ${r.connections.connectSeconds.toFixed(1)} s)`],
    ['hub CPU per connect (upgrade + handshake + JoinGroup)', (r) => `${int(r.connections.hubCpuUsPerConnect)} µs`],
    ['**RSS per connection** (growth after GC / connections added)', (r) => `**${kb(r.memory.rssBytesPerConnection)}**`],
    ['JS heap + external per connection', (r) => kb(r.memory.heapBytesPerConnection)],
    ['hub RSS after connecting (GC) / at the end', (r) => `${r.memory.rssAfterBytes.map(mb).join(', ')} / ${r.memory.rssAtEndBytes.map(mb).join(', ')}`],
    ['deliveries expected / delivered', (r) => `${int(r.delivery.expected)} / ${int(r.delivery.delivered)} (**${(r.delivery.ratio * 100).toFixed(3)}%**)`],
    ['deliveries/s in the window', (r) => int(r.delivery.perSecondInWindow)],
    ['**latency p50 / p99 / p99.9 / max**', (r) => `**${ms(r.latency.p50Ms)} / ${ms(r.latency.p99Ms)}** / ${ms(r.latency.p999Ms)} / ${ms(r.latency.maxMs)} ms (${int(r.latency.samples)} samples)`],
    ['hub CPU, % of a core (each)', (r) => r.cpu.hubs.map(pct).join(', ')],
    ['hub event-loop delay p50 / p99 / max, ms (each)', (r) => eld(r.loopDelay.measure)],
    ['… while connecting', (r) => eld(r.loopDelay.connect)],
    ['new client: negotiate p50 / p99 / max', (r) => probe(r.probes.measure.negotiate)],
    ['new client: WebSocket + handshake p50 / p99 / max', (r) => probe(r.probes.measure.connect) + (r.probes.measure.skipped ? `, ${r.probes.measure.skipped} skipped` : '')],
    ['/healthz while measuring: p50 / p99 / worst', (r) => probe(r.probes.measure.healthz)],
    ['/healthz while connecting: p50 / p99 / worst', (r) => probe(r.probes.connect.healthz)],
    ['CPU: load clients / publisher / Redis / probes', (r) => [r.cpu.clients, r.cpu.publisher, r.cpu.redis, r.cpu.probe].map(pct).join(' / ')],
    ['CPU of other processes on the machine / stolen, % of a core', (r) => `${pct(r.cpu.others)} / ${pct(r.cpu.steal)}`],
    ['an idle process\'s loop delay p50 / p99 / max, ms (the probes\')', (r) => `${ms(r.probes.measure.loopDelay.p50)} / ${ms(r.probes.measure.loopDelay.p99)} / ${ms(r.probes.measure.loopDelay.max)}`],
    ['scenario time; load average before → after', (r) => `${r.durationSeconds.toFixed(0)} s; ${r.load.before} → ${r.load.after}`],
  ];
  const lines = [
    `# Switchboard scale (${header.date})`,
    '',
    `\`${header.command}\`: ${header.durationSeconds.toFixed(0)} s. Machine: ${header.machine.cpus} × ${header.machine.cpuModel ?? '?'}, ${header.machine.memoryGiB} GiB, Node ${header.machine.node}; CPU speed ${header.cpuSpeedMs} ms (lower is faster); load average ${header.loadAverage.before} → ${header.loadAverage.after}.`,
    '',
    ...results.map((r) => `- **${reachedLine(r)}**`),
    ...header.skipped.map((s) => `- ${s.nodes} nodes: not run (${s.reason})`),
    '',
    'Every connection: WebSocket upgrade, SignalR JSON handshake, JoinGroup; one tick a second each, from the hub context through Redis; ' +
      `${results[0]?.setup.measureSeconds ?? '?'} s measured. Latency: publish → receive, every 4th delivery of each connection. See bench/README.md, "Scale".`,
    '',
    `| | ${col((r) => `${r.nodes} node${r.nodes > 1 ? 's' : ''}`)} |`,
    `|---|${results.map(() => '---').join('|')}|`,
    ...rows.map(([name, f]) => `| ${name} | ${col(f)} |`),
    '',
  ];
  return lines.join('\n');
}
