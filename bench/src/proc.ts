import { fork, type ChildProcess } from 'node:child_process';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { randomBytes } from 'node:crypto';

const run = promisify(execFile);

/** A benchmark role (bench/dist/roles/<name>.js) in its own process, driven over Node IPC. */
export class Role {
  private counter = 0;
  private readonly pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  private readonly listeners = new Set<(e: { ev: string } & Record<string, unknown>) => void>();
  private readonly exited: Promise<number | null>;
  private stderr = '';

  private constructor(
    readonly name: string,
    readonly child: ChildProcess,
  ) {
    child.on('message', (m: { re?: number; ok?: boolean; value?: unknown; error?: string; ev?: string }) => {
      if (m.re !== undefined) {
        const p = this.pending.get(m.re);
        if (!p) return;
        this.pending.delete(m.re);
        if (m.ok) p.resolve(m.value);
        else p.reject(new Error(`${name}: ${m.error}`));
        return;
      }
      if (m.ev) for (const l of this.listeners) l(m as { ev: string });
    });
    child.stderr?.on('data', (d: Buffer) => {
      this.stderr = (this.stderr + d.toString()).slice(-4000);
    });
    this.exited = new Promise((resolve) =>
      child.once('exit', (code) => {
        for (const p of this.pending.values()) p.reject(new Error(`${name} exited (${code}) before answering. stderr:\n${this.stderr}`));
        this.pending.clear();
        resolve(code);
      }),
    );
  }

  /** `root`: run the role from another checkout's bench/dist (its own libraries), e.g. for before/after comparisons. */
  static fork(name: string, env: Record<string, string> = {}, execArgv: string[] = [], root?: string): Role {
    const script = root ? pathToFileURL(join(root, 'bench/dist/roles', `${name}.js`)) : new URL(`./roles/${name}.js`, import.meta.url);
    const child = fork(script, [], {
      env: { ...process.env, ...env },
      execArgv,
      stdio: ['ignore', 'inherit', 'pipe', 'ipc'],
    });
    return new Role(name, child);
  }

  get pid(): number {
    return this.child.pid!;
  }

  request<T = unknown>(op: string, args: Record<string, unknown> = {}, timeoutMs = 120_000): Promise<T> {
    const id = ++this.counter;
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error(`${this.name}: '${op}' not answered within ${timeoutMs} ms. stderr:\n${this.stderr}`));
      }, timeoutMs);
      this.pending.set(id, {
        resolve: (v) => {
          clearTimeout(timer);
          resolve(v as T);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      });
      this.child.send({ id, op, ...args });
    });
  }

  event(message: { ev: string } & Record<string, unknown>): void {
    if (this.child.connected) this.child.send(message);
  }

  onEvent(listener: (e: { ev: string } & Record<string, unknown>) => void): void {
    this.listeners.add(listener);
  }

  /** SIGTERM, SIGKILL after `graceMs`. */
  async stop(graceMs = 5000): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), graceMs);
    await this.exited;
    clearTimeout(timer);
  }
}

const TICKS_PER_SECOND = 100; // USER_HZ on Linux

/** CPU seconds (user + system) a process has used so far; NaN when it is gone. */
export function cpuSeconds(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may contain spaces) start after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND;
  } catch {
    return Number.NaN;
  }
}

/** Resident set size in bytes; NaN when the process is gone. */
export function rssBytes(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : Number.NaN;
  } catch {
    return Number.NaN;
  }
}

/** The pid of the redis-server listening on `port` (from INFO). */
export async function redisPid(port: number): Promise<number> {
  const { stdout } = await run('redis-cli', ['-p', String(port), 'info', 'server']);
  const m = /process_id:(\d+)/.exec(stdout);
  if (!m) throw new Error(`no process_id in INFO from the Redis on port ${port}`);
  return Number(m[1]);
}

/**
 * Milliseconds one core takes for a fixed single-threaded workload (an integer loop and JSON
 * round trips; best of 3): the machine's speed when the run starts. The same code on two machines
 * of this kind, an hour apart, delivered 1.1M and 0.2-0.5M messages/s (Redis and raw `ws` 2-4x
 * slower too): figures from runs whose speeds differ are not comparable. Lower is faster.
 */
export function cpuSpeedMs(): number {
  const sample = { id: 'job:42', state: 'active', progress: { percent: 57, stage: 'hashing' }, list: [1, 2.5, 'three', true, null] };
  let best = Number.POSITIVE_INFINITY;
  let sink = 0;
  for (let attempt = 0; attempt < 3; attempt++) {
    const t0 = performance.now();
    for (let i = 0; i < 3e7; i++) sink = (sink + i) & 0xffff;
    for (let i = 0; i < 2e4; i++) sink += JSON.stringify(JSON.parse(JSON.stringify(sample))).length & 1;
    best = Math.min(best, performance.now() - t0);
  }
  return sink === -1 ? 0 : Math.round(best);
}

/** Load average over the last minute and the machine's CPU count, to report other load on the machine. */
export function loadAverage(): number {
  try {
    return Number(readFileSync('/proc/loadavg', 'utf8').split(' ')[0]);
  } catch {
    return Number.NaN;
  }
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** apps/hub's entry, in this checkout or another built one (`--compare`). */
export const hubScript = (root?: string): string => (root ? join(root, 'apps/hub/dist/main.js') : 'apps/hub/dist/main.js');

/** What every benchmark's hub nodes start with: their Redis and key prefix, a fresh HUB_SECRET, loopback on a free port, warnings only; then `extra`. */
export function benchHubEnv(redisUrl: string, prefix: string, extra: Record<string, string> = {}): Record<string, string> {
  return { REDIS_URL: redisUrl, REDIS_PREFIX: prefix, HUB_SECRET: randomBytes(32).toString('base64'), HOST: '127.0.0.1', PORT: '0', LOG_LEVEL: 'warn', ...extra };
}
