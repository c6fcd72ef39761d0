import { describe, expect, it } from 'vitest';
import { Invocations } from './invocations.js';
import { Semaphore } from './semaphore.js';

describe('Invocations.idle (the connection drops an idle one: a listening connection holds no invocation state)', () => {
  it('is idle when nothing is in flight, open or taken, and not while any of it is', async () => {
    const inv = new Invocations(1);
    expect(inv.idle).toBe(true);
    inv.inFlight++;
    expect(inv.idle).toBe(false);
    inv.inFlight--;
    expect(inv.slots.acquire()).toBeUndefined();
    expect(inv.idle).toBe(false); // a slot is taken
    inv.slots.release();
    expect(inv.idle).toBe(true);
    inv.streams.set('1', new AbortController());
    expect(inv.idle).toBe(false);
    inv.streams.delete('1');
    expect(inv.idle).toBe(true);
  });

  it('is never idle again once a client result was started (its ids must not start over)', () => {
    const inv = new Invocations(1);
    void inv.clientResults;
    expect(inv.idle).toBe(false);
  });

  it('Semaphore.isIdle: every permit back and nobody waiting', async () => {
    const s = new Semaphore(1);
    expect(s.isIdle(1)).toBe(true);
    s.acquire();
    const waiting = s.acquire();
    expect(s.isIdle(1)).toBe(false);
    s.release();
    await waiting;
    expect(s.isIdle(1)).toBe(false);
    s.release();
    expect(s.isIdle(1)).toBe(true);
  });
});
