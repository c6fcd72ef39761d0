import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import type { JobState, JobUpdate } from '@switchboard/contracts';
import { REPO_ROOT, startNodeProcess, type StartedProcess } from '../support/processes.js';
import { startRedis, uniquePrefix, type PrivateRedis } from '../support/redis.js';
import type { HubConnection } from '@microsoft/signalr';

export const TERMINAL_STATES: ReadonlySet<JobState> = new Set(['completed', 'failed', 'cancelled']);

/** What the `hash` job computes: sha256('switchboard'), then `rounds` times sha256 of the previous 32-byte digest. */
export function expectedHash(rounds: number): string {
  let digest = createHash('sha256').update('switchboard').digest();
  for (let i = 0; i < rounds; i++) digest = createHash('sha256').update(digest).digest();
  return digest.toString('hex');
}

export interface WorkerEnv {
  POOL_SIZE?: string;
  WORKER_CONCURRENCY?: string;
  JOB_LOCK_MS?: string;
  JOB_STALLED_INTERVAL_MS?: string;
  /** This worker's job set (default: the deployment's `env`, else the example set). */
  JOBS_MODULE?: string;
}

/**
 * A private redis-server, two `apps/hub` nodes (same HUB_SECRET, REDIS_URL, unique REDIS_PREFIX)
 * and any number of `apps/worker` processes on that Redis and prefix.
 */
export interface JobsDeployment {
  readonly redis: PrivateRedis;
  readonly prefix: string;
  readonly hubA: StartedProcess;
  readonly hubB: StartedProcess;
  readonly workers: StartedProcess[];
  /** Starts one more worker and waits for `worker ready`. */
  startWorker(env?: WorkerEnv): Promise<StartedProcess>;
  /** Stops every process it started (workers, hubs) and the Redis server. */
  stop(): Promise<void>;
}

export async function startJobsDeployment(
  options: {
    workers?: WorkerEnv[];
    /** Extra environment for both hub nodes (AUTH_*, CORS_ORIGINS...). */
    hubEnv?: Record<string, string>;
    /** Extra environment for every process, hub nodes and workers (JOBS_MODULE...). */
    env?: Record<string, string>;
  } = {},
): Promise<JobsDeployment> {
  const redis = await startRedis();
  const prefix = uniquePrefix('jobs');
  const secret = randomBytes(32).toString('base64');
  const workers: StartedProcess[] = [];
  const hubs: StartedProcess[] = [];
  const common = { REDIS_URL: redis.url, REDIS_PREFIX: prefix, LOG_LEVEL: 'warn', ...options.env };
  const startWorker = async (env: WorkerEnv = {}): Promise<StartedProcess> => {
    const w = await startNodeProcess('apps/worker/dist/main.js', { ...common, POOL_SIZE: '1', JOB_LOCK_MS: '2000', JOB_STALLED_INTERVAL_MS: '1000', ...env }, 15_000, /worker ready/);
    workers.push(w);
    return w;
  };
  const stop = async () => {
    await Promise.allSettled([...workers, ...hubs].map((p) => p.stop('SIGTERM', 3000)));
    await redis.stop();
  };
  // allSettled: when one process fails to start, the others that did are stopped too (a worker
  // left behind would retry its dead Redis forever).
  const results = await Promise.allSettled([
    startNodeProcess('apps/hub/dist/main.js', { ...common, PORT: '0', HOST: '127.0.0.1', HUB_SECRET: secret, ...options.hubEnv }),
    startNodeProcess('apps/hub/dist/main.js', { ...common, PORT: '0', HOST: '127.0.0.1', HUB_SECRET: secret, ...options.hubEnv }),
    ...(options.workers ?? []).map((env) => startWorker(env)),
  ]);
  for (const r of results.slice(0, 2)) if (r.status === 'fulfilled') hubs.push(r.value);
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) {
    await stop();
    throw failed.reason;
  }
  return { redis, prefix, hubA: hubs[0]!, hubB: hubs[1]!, workers, startWorker, stop };
}

/**
 * One client's watch of one job: registers for `jobUpdated` before invoking `watch`, keeps the
 * snapshot `watch` returned and every live update for the job in arrival order.
 */
export class JobWatch {
  /** Live `jobUpdated` calls for this job, in arrival order. */
  readonly live: JobUpdate[] = [];
  /** How many of `live` arrived before `watch` resolved. */
  liveBeforeSnapshot = 0;
  snapshot: JobUpdate | undefined;
  private readonly waiters = new Set<() => void>();
  private readonly handler = (u: JobUpdate) => {
    if (u.jobId !== this.jobId) return;
    this.live.push(u);
    for (const w of this.waiters) w();
  };

  private constructor(
    readonly connection: HubConnection,
    readonly jobId: string,
  ) {}

  static async start(connection: HubConnection, jobId: string): Promise<JobWatch> {
    const w = new JobWatch(connection, jobId);
    connection.on('jobUpdated', w.handler);
    try {
      w.snapshot = await connection.invoke<JobUpdate>('watch', jobId);
    } catch (err) {
      connection.off('jobUpdated', w.handler);
      throw err;
    }
    w.liveBeforeSnapshot = w.live.length;
    for (const waiter of w.waiters) waiter();
    return w;
  }

  /** The snapshot and the live updates, in the order this client got them. */
  seen(): JobUpdate[] {
    return [...this.live.slice(0, this.liveBeforeSnapshot), ...(this.snapshot ? [this.snapshot] : []), ...this.live.slice(this.liveBeforeSnapshot)];
  }

  /** The update with the highest `seq` seen so far (what a client following the contract shows). */
  latest(): JobUpdate {
    return this.seen().reduce((a, b) => (b.seq > a.seq ? b : a));
  }

  /** Resolves with the first update (snapshot or live) matching `pred`; rejects after `timeoutMs`. */
  until(pred: (u: JobUpdate) => boolean, timeoutMs: number, what: string): Promise<JobUpdate> {
    return new Promise((resolve, reject) => {
      const check = () => {
        const hit = this.seen().find(pred);
        if (!hit) return false;
        clearTimeout(timer);
        this.waiters.delete(check);
        resolve(hit);
        return true;
      };
      const timer = setTimeout(() => {
        this.waiters.delete(check);
        const states = this.seen().map((u) => `${u.seq}:${u.state}:${u.progress}`).join(', ');
        reject(new Error(`job ${this.jobId}: no ${what} within ${timeoutMs} ms; seen: ${states}`));
      }, timeoutMs);
      if (!check()) this.waiters.add(check);
    });
  }

  terminal(timeoutMs: number): Promise<JobUpdate> {
    return this.until((u) => TERMINAL_STATES.has(u.state), timeoutMs, 'terminal update');
  }

  dispose(): void {
    this.connection.off('jobUpdated', this.handler);
  }
}

/**
 * The guarantees every watcher gets, checked on what it received (call after the terminal state
 * plus a settle delay, so late extras would be seen):
 * - live updates arrive with strictly increasing `seq`, all for this job;
 * - the terminal state is seen exactly once: either as the snapshot (then no live update follows
 *   it) or as exactly one live update, which is the last one.
 */
export function invariantViolations(w: JobWatch): string[] {
  const problems: string[] = [];
  const seqs = w.live.map((u) => u.seq);
  for (let i = 1; i < seqs.length; i++) {
    if (seqs[i]! <= seqs[i - 1]!) problems.push(`seq not strictly increasing: ${seqs.join(',')}`);
  }
  if (w.live.some((u) => u.jobId !== w.jobId)) problems.push('an update of another job');
  const liveTerminal = w.live.filter((u) => TERMINAL_STATES.has(u.state));
  if (w.snapshot && TERMINAL_STATES.has(w.snapshot.state)) {
    const after = w.live.length - w.liveBeforeSnapshot;
    if (after > 0) problems.push(`${after} live update(s) after a terminal snapshot`);
  } else {
    if (liveTerminal.length !== 1) problems.push(`${liveTerminal.length} terminal live updates (expected exactly 1)`);
    else if (w.live.at(-1) !== liveTerminal[0]) problems.push(`updates after the terminal one: ${w.live.slice(w.live.indexOf(liveTerminal[0]!) + 1).map((u) => `${u.seq}:${u.state}`).join(', ')}`);
  }
  return problems;
}

export interface ApiResponse {
  status: number;
  contentType: string | null;
  body: unknown;
}

/** One request to a hub node's jobs REST API; parses JSON bodies. */
export async function api(base: string, method: string, path: string, body?: string, contentType = 'application/json', headers: Record<string, string> = {}): Promise<ApiResponse> {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: { ...(body !== undefined ? { 'Content-Type': contentType } : {}), ...headers },
    ...(body !== undefined ? { body } : {}),
    signal: AbortSignal.timeout(5000),
  });
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    // not JSON: keep the text
  }
  return { status: res.status, contentType: res.headers.get('content-type'), body: parsed };
}

/** Runs `apps/cli/dist/main.js` with `args`; killed (and rejected) after `timeoutMs`. */
export function runCli(args: string[], timeoutMs: number, env: Record<string, string> = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['apps/cli/dist/main.js', ...args], { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`the CLI did not exit within ${timeoutMs} ms; stdout: ${stdout}; stderr: ${stderr}`));
    }, timeoutMs);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

export interface CliJsonRun {
  code: number | null;
  /** Each stdout line parsed as JSON: one document for most commands, the updates for `watch`. */
  out: unknown[];
  /** stderr parsed as the CLI's `{ error, code }`; undefined when stderr is empty. */
  error: { error: string; code: string } | undefined;
  stdout: string;
  stderr: string;
}

/** Runs the CLI with `--json` appended and parses what it printed; throws on output that is not JSON (the test fails there, saying what it got). */
export async function runCliJson(args: string[], timeoutMs: number, env: Record<string, string> = {}): Promise<CliJsonRun> {
  const { code, stdout, stderr } = await runCli([...args, '--json'], timeoutMs, env);
  const parse = (text: string, what: string): unknown => {
    try {
      return JSON.parse(text);
    } catch {
      throw new Error(`the CLI's ${what} is not JSON: ${JSON.stringify(text)} (exit ${code}; stderr: ${stderr})`);
    }
  };
  const out = stdout.split('\n').filter((l) => l !== '').map((l) => parse(l, 'stdout line'));
  const error = stderr === '' ? undefined : (parse(stderr, 'stderr') as CliJsonRun['error']);
  return { code, out, error, stdout, stderr };
}
