import { createHash } from 'node:crypto';
import { Piscina } from 'piscina';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
// The built package: piscina threads load the compiled tasks/runner.js next to pool.js, and the
// example task modules from dist.
import { defineTask, TaskPool } from '@switchboard/jobs';
import type hashFn from './examples/hash.task.js';
import type transformFn from './examples/transform.task.js';

const hash = defineTask<typeof hashFn>(new URL('../dist/examples/hash.task.js', import.meta.url));
const transform = defineTask<typeof transformFn>(new URL('../dist/examples/transform.task.js', import.meta.url));

function localHash(seed: string, rounds: number): string {
  let digest = createHash('sha256').update(seed).digest();
  for (let i = 0; i < rounds; i++) digest = createHash('sha256').update(digest).digest();
  return digest.toString('hex');
}

describe('TaskPool (one piscina thread)', () => {
  let pool: TaskPool;

  beforeAll(() => {
    pool = new TaskPool({ size: 1 });
  });
  afterAll(async () => {
    await pool?.destroy();
  });

  it('starts no thread before the first task', () => {
    expect(pool.stats()).toEqual({ threads: 0, busy: 0, queued: 0 });
  });

  it('hash: the output equals sha256(seed) re-hashed `rounds` times', async () => {
    expect(pool.size).toBe(1);
    expect(await pool.run(hash, { seed: 'switchboard', rounds: 1 })).toBe(localHash('switchboard', 1));
    expect(await pool.run(hash, { seed: 'switchboard', rounds: 5_000 })).toBe(localHash('switchboard', 5_000));
    expect(await pool.run(hash, { seed: 'other', rounds: 5_000 })).not.toBe(localHash('switchboard', 5_000));
    expect(pool.running).toBe(0);
  });

  it('reports progress to the callback on the main thread', async () => {
    const seen: number[] = [];
    const out = await pool.run(hash, { seed: 'switchboard', rounds: 20_000 }, { onProgress: (p) => seen.push(p) });
    expect(out).toBe(localHash('switchboard', 20_000));
    expect(seen.length).toBeGreaterThanOrEqual(10);
    expect(seen[0]).toBeGreaterThan(0);
    for (let i = 1; i < seen.length; i++) expect(seen[i]!).toBeGreaterThan(seen[i - 1]!);
    expect(seen.every((p) => p <= 100)).toBe(true);
  });

  it('transform is deterministic and reports progress', async () => {
    const seen: number[] = [];
    const a = await pool.run(transform, { items: 200 }, { onProgress: (p) => seen.push(p) });
    expect(a).toMatch(/^[0-9a-f]{64}$/);
    expect(await pool.run(transform, { items: 200 })).toBe(a);
    expect(await pool.run(transform, { items: 201 })).not.toBe(a);
    expect(seen.length).toBeGreaterThan(0);
  });

  it('abort rejects a running task quickly and frees the thread', async () => {
    const abort = new AbortController();
    let started!: () => void;
    const progressed = new Promise<void>((r) => (started = r));
    // 5M rounds: ~10 s of hashing, the first 1% report after ~0.1 s.
    const run = pool.run(hash, { seed: 'switchboard', rounds: 5_000_000 }, { signal: abort.signal, onProgress: () => started() });
    const settled = run.then(
      () => 'resolved',
      (err: unknown) => err,
    );
    await progressed; // mid-loop in the thread
    expect(pool.running).toBe(1);
    const t0 = Date.now();
    abort.abort(new Error('stop it'));
    const outcome = await settled;
    expect(Date.now() - t0).toBeLessThan(1_000);
    expect(outcome).toBeInstanceOf(Error);
    expect(pool.running).toBe(0);
    // The single thread is usable again at once (behind the rest of 5M rounds it could not).
    const t1 = Date.now();
    expect(await pool.run(hash, { seed: 'switchboard', rounds: 100 })).toBe(localHash('switchboard', 100));
    expect(Date.now() - t1).toBeLessThan(3_000);
  });

  it('without onProgress: no progress port, the task\'s reports are dropped in the thread, the output arrives', async () => {
    // hash reports about every 1%: with nobody listening the thread drops them, and the run
    // settles on piscina's answer alone (no port to drain).
    const run = vi.spyOn(Piscina.prototype, 'run');
    try {
      expect(await pool.run(hash, { seed: 'quiet', rounds: 20_000 })).toBe(localHash('quiet', 20_000));
      // What piscina was given: the request without a port, and nothing to transfer.
      expect(run).toHaveBeenCalledTimes(1);
      const [request, options] = run.mock.calls[0]!;
      expect(request).not.toHaveProperty('port');
      expect(options?.transferList).toBeUndefined();
    } finally {
      run.mockRestore();
    }
    const many = await Promise.all(Array.from({ length: 20 }, (_, i) => pool.run(hash, { seed: `s${i}`, rounds: 50 })));
    expect(many).toEqual(Array.from({ length: 20 }, (_, i) => localHash(`s${i}`, 50)));
    expect(pool.running).toBe(0);
  });

  it('abort stops a running task that has no progress listener', async () => {
    const abort = new AbortController();
    // 5M rounds: ~10 s of hashing; aborted after it had time to start.
    const run = pool.run(hash, { seed: 'switchboard', rounds: 5_000_000 }, { signal: abort.signal });
    const settled = run.then(
      () => 'resolved',
      (err: unknown) => err,
    );
    await new Promise((r) => setTimeout(r, 300));
    const t0 = Date.now();
    abort.abort(new Error('stop it'));
    expect(await settled).toBeInstanceOf(Error);
    expect(Date.now() - t0).toBeLessThan(1_000);
    expect(pool.running).toBe(0);
    expect(await pool.run(hash, { seed: 'switchboard', rounds: 100 })).toBe(localHash('switchboard', 100));
  });

  it('a task module without a default export function, or one that does not load, fails the run with a clear error', async () => {
    const noDefault = defineTask(new URL('../dist/examples/demo-jobs.js', import.meta.url).href.replace('demo-jobs', 'no-such-module'));
    await expect(pool.run(noDefault, {})).rejects.toThrow(/no-such-module\.js could not be loaded/);
    const notAFunction = defineTask(new URL('../dist/index.js', import.meta.url));
    await expect(pool.run(notAFunction, {})).rejects.toThrow(/has no default export function: export default async \(input, \{ progress, signal \}\) => output/);
    // The thread is fine afterwards.
    expect(await pool.run(hash, { seed: 'switchboard', rounds: 3 })).toBe(localHash('switchboard', 3));
  });

  it('refuses what is not a task definition', async () => {
    await expect(pool.run('hash' as never, {})).rejects.toMatchObject({ code: 'SB_CONFIG_INVALID', message: expect.stringMatching(/defineTask/) });
  });

  it('an already aborted signal rejects without running', async () => {
    const abort = new AbortController();
    abort.abort(new Error('before'));
    await expect(pool.run(hash, { seed: 'x', rounds: 10 }, { signal: abort.signal })).rejects.toBeTruthy();
    expect(pool.running).toBe(0);
  });
});
