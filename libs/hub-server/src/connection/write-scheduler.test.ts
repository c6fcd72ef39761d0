import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { HubServerMetrics } from '../telemetry/metrics.js';
import { WriteLoadController } from './write-load.js';
import { WriteScheduler, type SentTally, type Writable } from './write-scheduler.js';

/** The event loop's busy time the test reports to the controller (ms). */
let active = 0;

/** A controller whose interval the test sets; it records the lateness the scheduler reports. */
class FixedLoad extends WriteLoadController {
  readonly lags: number[] = [];
  constructor() {
    super({ activeMs: () => active });
  }
  override record(): void {}
  override lag(ms: number): void {
    this.lags.push(ms);
  }
}

let clock = 0;
const sent: { hub: string; messages: number; bytes: number }[] = [];
const sink: HubServerMetrics = { messagesSent: (hub, messages, bytes) => sent.push({ hub, messages, bytes }) };

/** A connection that records when it was written; each write reports one 10-byte message. */
class Conn implements Writable {
  lastWriteAt = Number.NEGATIVE_INFINITY;
  writeDue = 0;
  readonly writes: number[] = [];
  readonly failures: unknown[] = [];
  fail = false;
  constructor(readonly maxWriteDelayMs = 12) {}
  writeQueued(tally: SentTally): void {
    this.writes.push(clock);
    if (this.fail) throw new Error('socket gone');
    tally.add('hub', sink, 1, 10);
  }
  writeFailed(err: unknown): void {
    this.failures.push(err);
  }
}

function setup(interval: number) {
  const load = new FixedLoad();
  load.intervalMs = interval;
  return { load, scheduler: new WriteScheduler(load, () => clock) };
}

/** Moves the clock and the fake timers together, a millisecond at a time. */
function advance(ms: number): void {
  for (let i = 0; i < ms; i++) {
    clock++;
    vi.advanceTimersByTime(1);
  }
}
const endOfTurn = () => new Promise<void>((resolve) => queueMicrotask(resolve));

beforeEach(() => {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
  clock = 1000;
  sent.length = 0;
});
afterEach(() => {
  vi.useRealTimers();
});

describe('WriteScheduler', () => {
  it('with no interval writes every scheduled connection once, at the end of the turn, and reports metrics once per hub', async () => {
    const { scheduler } = setup(0);
    const [a, b] = [new Conn(), new Conn()];
    scheduler.schedule(a);
    scheduler.schedule(b);
    scheduler.schedule(a);
    expect(a.writes).toEqual([]);
    await endOfTurn();
    expect([a.writes, b.writes]).toEqual([[1000], [1000]]);
    expect(sent).toEqual([{ hub: 'hub', messages: 2, bytes: 20 }]);
  });

  it('writes a connection quiet for the interval at once, and holds the next output until lastWriteAt + interval', async () => {
    const { scheduler } = setup(10);
    const a = new Conn();
    scheduler.schedule(a);
    await endOfTurn();
    expect(a.writes).toEqual([1000]);
    advance(3);
    scheduler.schedule(a);
    scheduler.schedule(a);
    await endOfTurn();
    advance(6);
    expect(a.writes).toEqual([1000]);
    advance(1);
    expect(a.writes).toEqual([1000, 1010]);
    advance(20);
    expect(a.writes).toEqual([1000, 1010]);
  });

  it('writes urgent output at once, and the held write it replaces does not happen', async () => {
    const { scheduler } = setup(10);
    const a = new Conn();
    a.lastWriteAt = clock;
    scheduler.schedule(a);
    advance(2);
    scheduler.schedule(a, true);
    await endOfTurn();
    expect(a.writes).toEqual([1002]);
    advance(20);
    expect(a.writes).toEqual([1002]);
  });

  it('voids a held write when the connection was written directly (close, reattach)', async () => {
    const { scheduler } = setup(10);
    const a = new Conn();
    a.lastWriteAt = clock;
    scheduler.schedule(a);
    advance(4);
    scheduler.wrote(a);
    expect(a.lastWriteAt).toBe(1004);
    advance(20);
    expect(a.writes).toEqual([]);
    scheduler.schedule(a); // 20 ms after the direct write: at once
    await endOfTurn();
    expect(a.writes).toEqual([1024]);
  });

  it("caps the interval by each connection's maxWriteDelayMs (0 = never held) and raises the controller's ceiling to the largest cap", async () => {
    const { scheduler, load } = setup(10);
    const [never, short] = [new Conn(0), new Conn(4)];
    never.lastWriteAt = short.lastWriteAt = clock;
    scheduler.schedule(never);
    scheduler.schedule(short);
    await endOfTurn();
    expect(never.writes).toEqual([1000]);
    advance(4);
    expect(short.writes).toEqual([1004]);
    scheduler.schedule(new Conn(40));
    expect(load.ceilingMs).toBe(40);
  });

  it('writes connections due at different times each at its own time, with one timer re-armed for the next', async () => {
    const { scheduler } = setup(10);
    const [a, b] = [new Conn(), new Conn()];
    a.lastWriteAt = clock;
    b.lastWriteAt = clock + 5;
    scheduler.schedule(b);
    scheduler.schedule(a);
    advance(10);
    expect([a.writes, b.writes]).toEqual([[1010], []]);
    advance(5);
    expect([a.writes, b.writes]).toEqual([[1010], [1015]]);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('a connection held, written urgently and held again is written once, at its new time', async () => {
    const { scheduler } = setup(10);
    const a = new Conn();
    a.lastWriteAt = clock;
    scheduler.schedule(a); // held for 1010
    advance(3);
    scheduler.schedule(a, true);
    await endOfTurn();
    expect(a.writes).toEqual([1003]);
    scheduler.schedule(a); // held for 1013; the entry for 1010 is stale
    advance(7);
    expect(a.writes).toEqual([1003]);
    advance(3);
    expect(a.writes).toEqual([1003, 1013]);
    advance(20);
    expect(a.writes).toEqual([1003, 1013]);
  });

  it('writes each of many held connections once, in the millisecond it is due', () => {
    const { scheduler } = setup(10);
    const conns = Array.from({ length: 500 }, (_, i) => {
      const c = new Conn();
      c.lastWriteAt = clock - (i % 10) - 0.5; // due 9.5 ms to 0.5 ms from now
      return c;
    });
    for (const c of conns) scheduler.schedule(c);
    advance(12);
    for (const [i, c] of conns.entries()) expect(c.writes, `connection ${i}`).toEqual([Math.ceil(1000 - (i % 10) - 0.5 + 10)]);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('reports how late its timer fired to the controller', () => {
    const { scheduler, load } = setup(10);
    const a = new Conn();
    a.lastWriteAt = clock;
    scheduler.schedule(a);
    clock += 25; // the process was busy: the timer for +10 fires at +25
    vi.advanceTimersByTime(10);
    expect(a.writes).toEqual([1025]);
    expect(load.lags).toEqual([14]);
  });

  it("does not count the loop's own busy time after the timer was due as lateness", () => {
    const { scheduler, load } = setup(10);
    const a = new Conn();
    a.lastWriteAt = clock;
    scheduler.schedule(a); // armed at 1000 for the millisecond 1010, due (libuv rounding) by 1011
    active += 20; // busy 20 ms: counted as busy all 11 ms until due, so 9 after it
    clock += 25; // fires 14 ms late
    vi.advanceTimersByTime(10);
    expect(load.lags).toEqual([5]);
  });

  it('a write that throws is reported on its connection; the others in the pass are still written', async () => {
    const { scheduler } = setup(0);
    const [bad, good] = [new Conn(), new Conn()];
    bad.fail = true;
    scheduler.schedule(bad);
    scheduler.schedule(good);
    await endOfTurn();
    expect(bad.failures).toHaveLength(1);
    expect(good.writes).toEqual([1000]);
    expect(sent).toEqual([{ hub: 'hub', messages: 1, bytes: 10 }]);
  });
});
