import type * as signalR from '@microsoft/signalr';
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
