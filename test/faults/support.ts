import type * as signalR from '@microsoft/signalr';
import { connectJobs, type JobsConnection } from '@switchboard/client';
import type { JobUpdate } from '@switchboard/contracts';
import { api } from '../jobs/support.js';
import { startNodeProcess, type StartedProcess } from '../support/processes.js';

/** `startNodeProcess` ready on `ready` (a worker prints no `listening on`); `url` is its first group or ''. */
export function startProcessUntil(script: string, env: Record<string, string>, ready: RegExp, timeoutMs = 10_000): Promise<StartedProcess> {
  return startNodeProcess(script, env, timeoutMs, ready);
}

/**
 * Starts processes together. If any fails to start, stops the ones that did and rethrows, so no
 * process outlives a failed `beforeAll` (a hub-context worker retries Redis forever otherwise).
 */
export async function startAll(starts: Promise<StartedProcess>[]): Promise<StartedProcess[]> {
  const results = await Promise.allSettled(starts);
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) {
    await Promise.all(results.map((r) => (r.status === 'fulfilled' ? r.value.stop('SIGKILL') : undefined)));
    throw failed.reason;
  }
  return results.map((r) => (r as PromiseFulfilledResult<StartedProcess>).value);
}

export function isRunning(p: StartedProcess): boolean {
  return p.child.exitCode === null && p.child.signalCode === null;
}

/** Every call of client method `name` on `connection`, as argument arrays, from now on. */
export function record(connection: signalR.HubConnection, name: string): unknown[][] {
  const calls: unknown[][] = [];
  connection.on(name, (...args: unknown[]) => void calls.push(args));
  return calls;
}

/** Polls `check` until it returns a truthy value; throws `what` after `timeoutMs`. */
export async function waitFor<T>(what: string, check: () => T | Promise<T>, timeoutMs = 5000, everyMs = 20): Promise<NonNullable<T> | T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** The settled outcome of a promise and how long it took. */
export async function timed<T>(p: Promise<T>): Promise<{ ms: number; value?: T; error?: Error }> {
  const started = Date.now();
  try {
    const value = await p;
    return { ms: Date.now() - started, value };
  } catch (err) {
    return { ms: Date.now() - started, error: err as Error };
  }
}

/** `true` after `ms` of `calls` not growing past `count` (for "nothing more arrives" checks). */
export async function staysAt(calls: unknown[][], count: number, ms = 300): Promise<boolean> {
  await new Promise((r) => setTimeout(r, ms));
  return calls.length === count;
}

const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
export const isIsoTime = (v: unknown): boolean => typeof v === 'string' && ISO.test(v) && !Number.isNaN(Date.parse(v));

export const TERMINAL_STATES: ReadonlySet<string> = new Set(['completed', 'failed', 'cancelled', 'lost']);

/** A `connectJobs` client, the terminal update it saw per job, and how many terminal updates per job (must be 1). */
export interface Watcher {
  conn: JobsConnection;
  final: Map<string, JobUpdate>;
  terminalCount: Map<string, number>;
}

/** A persistent `connectJobs` client on hub node `url` that records terminal updates. */
export async function watcher(url: string): Promise<Watcher> {
  const conn = connectJobs(url, { reconnectDelays: [0, 200, 500, 1000], persistent: true, logger: { log() {} } });
  await conn.start();
  const final = new Map<string, JobUpdate>();
  const terminalCount = new Map<string, number>();
  conn.onJobUpdated((u) => {
    if (!TERMINAL_STATES.has(u.state)) return;
    final.set(u.jobId, u);
    terminalCount.set(u.jobId, (terminalCount.get(u.jobId) ?? 0) + 1);
  });
  return { conn, final, terminalCount };
}

/** Enqueues `count` jobs named `name` through REST on `base`, 50 at a time; their ids. */
export async function enqueue(base: string, count: number, data: object, name = 'pipeline'): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < count; i += 50) {
    const batch = await Promise.all(
      Array.from({ length: Math.min(50, count - i) }, async () => {
        const res = await api(base, 'POST', '/api/jobs', JSON.stringify({ name, data }));
        if (res.status !== 202) throw new Error(`enqueue answered ${res.status}: ${JSON.stringify(res.body)}`);
        return (res.body as { jobId: string }).jobId;
      }),
    );
    ids.push(...batch);
  }
  return ids;
}

/** Over every (watcher, job): how many were watched, ended (`lost` included), ended `lost`, still wait. */
export function countOutcomes(watchers: readonly Watcher[], ids: readonly string[]): { tried: number; terminal: number; lost: number; waiting: number } {
  const tried = ids.length * watchers.length;
  let terminal = 0;
  let lost = 0;
  for (const w of watchers) {
    for (const id of ids) {
      const u = w.final.get(id);
      if (u) terminal++;
      if (u?.state === 'lost') lost++;
    }
  }
  return { tried, terminal, lost, waiting: tried - terminal };
}
