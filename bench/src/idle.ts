import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import type { Checkout } from './fanout.js';
import { join } from 'node:path';
import { startNodeProcess, type StartedProcess } from '@switchboard/test/support/processes';
import { median } from './stats.js';
import { Role, benchHubEnv, hubScript, rssBytes, sleep } from './proc.js';

export type IdleStack = 'switchboard' | 'socketio' | 'raw-ws';

export interface IdleOptions {
  /** Connections measured (on one server node). */
  connections: number;
  groups: number;
  clientProcesses: number;
  /** Pause before each reading, and after the collection before reading RSS. @defaultValue 1000 */
  settleMs?: number;
}

export interface IdleResult {
  stack: IdleStack;
  connections: number;
  rssBeforeBytes: number;
  rssAfterBytes: number;
  /** (RSS after − RSS before) / connections. */
  bytesPerConnection: number;
  /** The same for the JavaScript heap in use plus memory outside it held by JS objects (Buffers): what the runtime itself retains, steadier than RSS. */
  heapBytesPerConnection: number;
}

export interface Reading {
  rss: number;
  heap: number;
}

/** Connections opened before the baseline reading: a quarter of the measured ones (100 at least). */
export function warmConnections(connections: number): number {
  return Math.max(100, Math.round(connections / 4));
}

const GC_PRELOAD = new URL('./roles/gc-signal.js', import.meta.url).href;

/**
 * After a pause, a full garbage collection (SIGUSR2, see roles/gc-signal.ts), then the median of a
 * few RSS readings, and heap + external from the process's own report.
 */
export async function settled(pid: number, memoryFile: string, settleMs: number): Promise<Reading> {
  await sleep(settleMs);
  rmSync(memoryFile, { force: true });
  process.kill(pid, 'SIGUSR2');
  await sleep(settleMs);
  const readings: number[] = [];
  for (let i = 0; i < 5; i++) {
    readings.push(rssBytes(pid));
    await sleep(settleMs / 5);
  }
  const usage = JSON.parse(readFileSync(memoryFile, 'utf8')) as { heapUsed: number; external: number };
  return { rss: median(readings), heap: usage.heapUsed + usage.external };
}

/**
 * Memory per idle connection on one server node: warm the node with `warmConnections(n)`
 * connections (code paths loaded and compiled, runtime heaps grown), collect garbage and read its
 * RSS, open `connections` more (each connected through its stack's handshake and in one group),
 * collect garbage and read RSS again. The Switchboard node runs with
 * Redis as in production (each connection also holds its backplane channel); Socket.IO with its
 * Redis adapter.
 */
export async function runIdle(stack: IdleStack, opts: IdleOptions, redisUrl: string, checkout: Checkout = {}): Promise<IdleResult> {
  const prefix = `benchidle${randomBytes(3).toString('hex')}:`;
  let hub: StartedProcess | undefined;
  let server: Role | undefined;
  const clients: Role[] = [];
  const dir = mkdtempSync(join(tmpdir(), 'sb-bench-idle-'));
  const memoryFile = join(dir, 'memory.json');
  try {
    let url: string;
    let pid: number;
    if (stack === 'switchboard') {
      hub = await startNodeProcess(hubScript(checkout.root), benchHubEnv(redisUrl, prefix, { BENCH_HUB: '1', NODE_OPTIONS: `--import=${GC_PRELOAD}`, BENCH_MEMORY_FILE: memoryFile }));
      url = hub.url;
      pid = hub.child.pid!;
    } else {
      server = Role.fork(stack === 'socketio' ? 'sio-server' : 'raw-server', { REDIS_URL: redisUrl, REDIS_PREFIX: prefix, GROUPS: String(opts.groups), BENCH_MEMORY_FILE: memoryFile }, [
        `--import=${GC_PRELOAD}`,
      ]);
      url = (await server.request<{ url: string }>('start')).url;
      pid = server.pid;
    }
    const kind = stack === 'switchboard' ? 'sb-json' : stack === 'socketio' ? 'sio' : 'raw';
    const target = (j: number) => ({ url, lane: 0, group: `g${j % opts.groups}` });
    for (let k = 0; k < opts.clientProcesses; k++) clients.push(Role.fork('load-client'));
    const connect = (count: number, offset: number) =>
      Promise.all(
        clients.map((c, k) => {
          const targets = [];
          for (let j = k; j < count; j += opts.clientProcesses) targets.push(target(offset + j));
          return c.request('connect', { kind, targets, concurrency: 50, sampleEvery: 1 }, 300_000);
        }),
      );
    // Warm-up connections stay open: the figure is the cost of each additional connection, past
    // the one-off growth of the runtime (V8's young generation grows by some MB while thousands of
    // connections are accepted, whatever the stack).
    const warm = warmConnections(opts.connections);
    await connect(warm, 0);
    const before = await settled(pid, memoryFile, opts.settleMs ?? 1000);
    await connect(opts.connections, warm);
    const after = await settled(pid, memoryFile, opts.settleMs ?? 1000);
    return {
      stack,
      connections: opts.connections,
      rssBeforeBytes: before.rss,
      rssAfterBytes: after.rss,
      bytesPerConnection: (after.rss - before.rss) / opts.connections,
      heapBytesPerConnection: (after.heap - before.heap) / opts.connections,
    };
  } finally {
    await Promise.allSettled(clients.map((c) => c.request('close', {}, 15_000)));
    await Promise.allSettled(clients.map((c) => c.stop()));
    await Promise.allSettled([hub?.stop(), server?.stop()]);
    rmSync(dir, { recursive: true, force: true });
  }
}
