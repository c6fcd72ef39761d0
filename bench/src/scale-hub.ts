import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { startNodeProcess } from '@switchboard/test/support/processes';
import { sleep } from './proc.js';

/**
 * A hub node of the scale scenario (apps/hub, BENCH_HUB=1), started under `ulimit -n <hard>`: its
 * soft RLIMIT_NOFILE raised to the hard limit (Node does the same at startup, so this only matters
 * for runtimes that do not); the pid is the node's (bash execs it). Preloads: roles/gc-signal.js
 * (SIGUSR2: full GC, memory to BENCH_MEMORY_FILE) and roles/loop-delay.js (SIGURG: event-loop
 * delay to BENCH_ELD_FILE).
 */
export interface ScaleHub {
  readonly pid: number;
  readonly url: string;
  /** Its stdout and stderr so far. */
  output(): string;
  /** Whether it exited, and how. */
  exited(): string | undefined;
  stop(): Promise<void>;
}

const PRELOADS = ['./roles/gc-signal.js', './roles/loop-delay.js'].map((p) => `--import=${new URL(p, import.meta.url).href}`).join(' ');

export async function startScaleHub(env: Record<string, string>, timeoutMs = 20_000): Promise<ScaleHub> {
  // Children inherit this process's hard limit, so it is the one to raise the soft limit to.
  const hub = await startNodeProcess('apps/hub/dist/main.js', { LOG_LEVEL: 'warn', NODE_OPTIONS: PRELOADS, ...env }, timeoutMs, undefined, { nofile: fdLimit('self').hard });
  let exit: string | undefined;
  hub.child.once('exit', (code, signal) => (exit = signal ? `killed by ${signal}` : `exited with ${code}`));
  return {
    pid: hub.child.pid!,
    url: hub.url,
    output: hub.output,
    exited: () => exit,
    stop: async () => void (await hub.stop('SIGTERM', 10_000)),
  };
}

/** RLIMIT_NOFILE of a process, from /proc/<pid>/limits ("Max open files"). */
export function fdLimit(pid: number | 'self'): { soft: number; hard: number } {
  const line = readFileSync(`/proc/${pid}/limits`, 'utf8')
    .split('\n')
    .find((l) => l.startsWith('Max open files'));
  const m = line && /Max open files\s+(\S+)\s+(\S+)/.exec(line);
  if (!m) throw new Error(`no "Max open files" in /proc/${pid}/limits`);
  const num = (s: string) => (s === 'unlimited' ? Number.POSITIVE_INFINITY : Number(s));
  return { soft: num(m[1]!), hard: num(m[2]!) };
}

/** File descriptors a process holds now. */
export function openFds(pid: number): number {
  return readdirSync(`/proc/${pid}/fd`).length;
}

/** Figures from the hub's GET /metrics: open hub connections of /hubs/bench, and open fds (NaN if it does not answer). */
export async function hubMetrics(url: string): Promise<{ connections: number; openFds: number }> {
  let text: string;
  try {
    text = await (await fetch(`${url}/metrics`, { signal: AbortSignal.timeout(10_000) })).text();
  } catch {
    return { connections: Number.NaN, openFds: Number.NaN };
  }
  let connections = 0;
  let fds = Number.NaN;
  for (const line of text.split('\n')) {
    if (line.startsWith('switchboard_connections{') && line.includes('hub="bench"')) connections += Number(line.slice(line.lastIndexOf(' ') + 1));
    else if (line.startsWith('process_open_fds')) fds = Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return { connections, openFds: fds };
}

export interface LoopDelay {
  p50: number;
  p99: number;
  p999: number;
  max: number;
  mean: number;
  samples: number;
}

/**
 * The hub's event-loop delay since the previous call (roles/loop-delay.ts, ms beyond its 10 ms
 * timer), and a fresh start; undefined if the hub did not answer within 5 s.
 */
export async function loopDelay(pid: number, file: string): Promise<LoopDelay | undefined> {
  rmSync(file, { force: true });
  process.kill(pid, 'SIGURG');
  for (let i = 0; i < 100; i++) {
    await sleep(50);
    if (!existsSync(file)) continue;
    try {
      return JSON.parse(readFileSync(file, 'utf8')) as LoopDelay;
    } catch {
      // being written
    }
  }
  return undefined;
}

/**
 * CPU seconds the whole machine has spent busy (every process, the kernel's interrupt work
 * included) and stolen by the hypervisor, from /proc/stat: with the scenario's own processes
 * subtracted, what the neighbours took from the shared cores.
 */
export function machineCpu(): { busy: number; steal: number } {
  const f = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0]!.trim().split(/\s+/).slice(1).map(Number);
  // user nice system idle iowait irq softirq steal (guest time is already in user)
  const [user = 0, nice = 0, system = 0, , , irq = 0, softirq = 0, steal = 0] = f;
  return { busy: (user + nice + system + irq + softirq) / 100, steal: steal / 100 };
}
