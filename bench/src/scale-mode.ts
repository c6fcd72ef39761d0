import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, freemem, totalmem } from 'node:os';
import { cpuSpeedMs, loadAverage } from './proc.js';
import { runScale, type ScaleOptions, type ScaleResult } from './scale.js';
import { reachedLine, renderScale, type ScaleHeader } from './scale-report.js';
import { round } from './stats.js';

/**
 * `npm run bench -- --scale` (bench/README.md, "Scale"): the scale scenario with 1 hub node, then
 * 2 hub nodes and twice the connections. Options: `--connections=N` (per node; default 100,000,
 * capped by the hub's fd limit), `--scale-nodes=1,2`, `--scale-duration=S` (measured seconds,
 * default 60). Writes bench/results/scale.{json,md}; returns the exit code (1 if a message was
 * lost, a connection failed or nothing was delivered).
 */
export async function runScaleMode(args: string[], log: (s: string) => void): Promise<number> {
  const arg = (name: string) => args.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
  const opts: ScaleOptions = {
    targetPerNode: Number(arg('connections') ?? 100_000),
    groupSize: 100,
    warmupMs: 2000,
    measureMs: Number(arg('scale-duration') ?? 60) * 1000,
    settleMs: 1000,
    perClientProcess: 10_000,
    perSourceAddress: 10_000,
    // Over the hub's own reserve (MAX_CONNECTIONS defaults to the soft fd limit less 256), so no load connection is refused.
    fdHeadroom: 300,
    concurrency: 50,
  };
  const nodeCounts = (arg('scale-nodes') ?? '1,2').split(',').map(Number);
  if (!(opts.targetPerNode >= opts.groupSize) || !(opts.measureMs > 0) || nodeCounts.some((n) => !(n >= 1 && n <= 8))) {
    throw new Error('--connections must be at least 100, --scale-duration positive, --scale-nodes a list of 1-8');
  }
  const started = performance.now();
  const load = { before: loadAverage(), after: Number.NaN };
  const speed = cpuSpeedMs();
  const results: ScaleResult[] = [];
  const skipped: { nodes: number; reason: string }[] = [];
  for (const nodes of nodeCounts) {
    // "If the machine allows": room for the hubs, the load clients and the kernel's socket
    // buffers, at a generous 64 KB per connection (about 10x what was measured).
    const perNode = results[0]?.perNode.used ?? opts.targetPerNode;
    const need = perNode * nodes * 64 * 1024;
    if (need > freemem()) {
      skipped.push({ nodes, reason: `${Math.round(need / 2 ** 30)} GiB needed at 64 KB per connection, ${Math.round(freemem() / 2 ** 30)} GiB free` });
      log(`scale, ${nodes} node(s): skipped (${skipped[skipped.length - 1]!.reason})`);
      continue;
    }
    const r = await runScale(nodes, opts, log);
    results.push(r);
    log(reachedLine(r));
  }
  load.after = loadAverage();

  const header: ScaleHeader = {
    date: new Date().toISOString(),
    durationSeconds: round((performance.now() - started) / 1000),
    command: `npm run bench -- ${args.join(' ')}`,
    machine: { cpus: cpus().length, cpuModel: cpus()[0]?.model, memoryGiB: round(totalmem() / 2 ** 30), node: process.version },
    cpuSpeedMs: speed,
    loadAverage: load,
    skipped,
  };
  const dir = new URL('../results/', import.meta.url);
  mkdirSync(dir, { recursive: true });
  const md = renderScale(header, results);
  writeFileSync(new URL('scale.json', dir), `${JSON.stringify({ ...header, options: opts, results }, null, 2)}\n`);
  writeFileSync(new URL('scale.md', dir), md);
  console.log(md);

  const problems: string[] = [];
  for (const r of results) {
    if (!(r.delivery.delivered > 0)) problems.push(`${r.nodes} node(s): nothing delivered`);
    else if (r.delivery.ratio < 1) problems.push(`${r.nodes} node(s): ${r.delivery.expected - r.delivery.delivered} of ${r.delivery.expected} deliveries lost`);
    if (r.connections.failed || r.connections.unexpectedCloses) problems.push(`${r.nodes} node(s): ${r.connections.failed} connection(s) failed, ${r.connections.unexpectedCloses} closed unexpectedly`);
  }
  if (problems.length) console.error(`bench: FAILED\n${problems.map((p) => `- ${p}`).join('\n')}`);
  return problems.length ? 1 : 0;
}
