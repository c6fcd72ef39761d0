import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Deadlines } from './deadlines.js';

/** A promise settled from outside (a command's answer). */
function command<T = number>() {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => ((resolve = res), (reject = rej)));
  return { promise, resolve, reject };
}

/** The state of a promise after pending callbacks ran. */
async function state(p: Promise<unknown>): Promise<string> {
  let s = 'pending';
  p.then(
    (v) => (s = `resolved ${String(v)}`),
    (e: Error) => (s = `rejected ${e.message}`),
  );
  await vi.advanceTimersByTimeAsync(0);
  return s;
}

describe('Deadlines (one timer bounding every publish)', () => {
  let clock = 0;
  const make = (ms = 100) => {
    const d = new Deadlines(ms, () => new Error(`late after ${ms}`), () => clock);
    // Rejections are observed later by `state`: mark them handled now, as a caller awaiting them would.
    const bound = d.bound.bind(d);
    d.bound = <T,>(work: Promise<T>) => {
      const p = bound(work);
      p.catch(() => {});
      return p;
    };
    return d;
  };
  /** Moves the injected clock and the fake timers together. */
  const advance = async (ms: number) => {
    clock += ms;
    await vi.advanceTimersByTimeAsync(ms);
  };

  beforeEach(() => {
    vi.useFakeTimers();
    clock = 0;
  });
  afterEach(() => vi.useRealTimers());

  it('passes an answer within the bound through, value or error', async () => {
    const d = make();
    const a = command();
    const b = command();
    const pa = d.bound(a.promise);
    const pb = d.bound(b.promise);
    a.resolve(7);
    b.reject(new Error('refused'));
    expect(await state(pa)).toBe('resolved 7');
    expect(await state(pb)).toBe('rejected refused');
    expect(d.pending).toBe(0);
  });

  it('rejects a command unanswered at its deadline, and ignores its later answer', async () => {
    const d = make(100);
    const c = command();
    const p = d.bound(c.promise);
    await advance(99);
    expect(await state(p)).toBe('pending');
    await advance(1);
    expect(await state(p)).toBe('rejected late after 100');
    c.resolve(1);
    c.reject(new Error('ignored'));
    expect(await state(p)).toBe('rejected late after 100');
    expect(d.pending).toBe(0);
  });

  it('gives each command its own deadline: one armed timer walks them in order', async () => {
    const d = make(100);
    const first = d.bound(command().promise);
    await advance(40);
    const second = d.bound(command().promise);
    await advance(60); // first's deadline
    expect(await state(first)).toBe('rejected late after 100');
    expect(await state(second)).toBe('pending');
    await advance(39);
    expect(await state(second)).toBe('pending');
    await advance(1);
    expect(await state(second)).toBe('rejected late after 100');
  });

  it('an answered head does not shield a later late command (answers out of order)', async () => {
    const d = make(100);
    const a = command();
    const b = command();
    const c = command();
    const [pa, pb, pc] = [d.bound(a.promise), d.bound(b.promise), d.bound(c.promise)];
    b.resolve(2); // answered, but behind an unanswered head
    a.resolve(1);
    expect(await state(pa)).toBe('resolved 1');
    expect(await state(pb)).toBe('resolved 2');
    await advance(100);
    expect(await state(pc)).toBe('rejected late after 100');
  });

  it('uses one timer however many commands wait, and none holds the process once all are answered', async () => {
    const d = make(100);
    const commands = Array.from({ length: 1000 }, () => command());
    const bound = commands.map((c) => d.bound(c.promise));
    expect(vi.getTimerCount()).toBe(1);
    commands.forEach((c, i) => c.resolve(i));
    await Promise.all(bound);
    expect(d.pending).toBe(0);
    // Left armed, unref'd: it fires once with nothing to do and is not re-armed.
    expect(vi.getTimerCount()).toBe(1);
    await advance(100);
    expect(vi.getTimerCount()).toBe(0);
    // A later command arms it again.
    const late = d.bound(command().promise);
    expect(vi.getTimerCount()).toBe(1);
    await advance(100);
    expect(await state(late)).toBe('rejected late after 100');
  });

  it('holds answered commands behind an unanswered head only until its deadline', async () => {
    const d = make(100);
    const head = d.bound(command().promise); // never answered
    for (let i = 0; i < 5000; i++) {
      const c = command();
      const p = d.bound(c.promise);
      c.resolve(i);
      await p;
    }
    const queue = () => (d as unknown as { queue: unknown[]; head: number }).queue.length;
    expect(d.pending).toBe(1);
    expect(queue()).toBe(5001);
    await advance(100);
    expect(await state(head)).toBe('rejected late after 100');
    expect(queue()).toBe(0);
  });

  it('rejects in bounded time under the real clock too', async () => {
    vi.useRealTimers();
    const d = new Deadlines(30, () => new Error('late'));
    const started = performance.now();
    await expect(d.bound(new Promise(() => {}))).rejects.toThrow('late');
    const took = performance.now() - started;
    expect(took).toBeGreaterThanOrEqual(29);
    expect(took).toBeLessThan(1000);
  });
});
