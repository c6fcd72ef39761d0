import type { JobUpdate } from '@switchboard/contracts';
import { describe, expect, it } from 'vitest';
import { fitWidth, ProgressView, RateMeter, renderLine } from './progress-bar.js';

let seq = 0;
function update(fields: Partial<JobUpdate>): JobUpdate {
  return { jobId: 'j1', name: 'pipeline', seq: ++seq, state: 'active', progress: 0, attempt: 1, createdAt: 0, updatedAt: 0, ...fields } as JobUpdate;
}

describe('RateMeter', () => {
  it('measures percent per second over the window and the ETA from it', () => {
    const m = new RateMeter(10_000, 1_000);
    m.add(update({ progress: 10 }), 0);
    expect(m.rate(500)).toBeUndefined(); // one sample, and too short a span
    m.add(update({ progress: 20 }), 2_000);
    expect(m.rate(2_000)).toBeCloseTo(5); // 10% in 2 s
    expect(m.etaMs(2_000)).toBeCloseTo(16_000); // 80% left at 5%/s
    m.add(update({ progress: 40 }), 4_000);
    expect(m.rate(4_000)).toBeCloseTo(7.5); // 30% in 4 s
  });

  it('gives no rate for a span shorter than minSpanMs (two updates a few ms apart are noise)', () => {
    const m = new RateMeter(10_000, 1_000);
    m.add(update({ progress: 10 }), 0);
    m.add(update({ progress: 12 }), 5);
    expect(m.rate(5)).toBeUndefined();
    expect(m.etaMs(5)).toBeUndefined();
    expect(m.rate(1_000)).toBeCloseTo(2); // measured up to now: 2% in 1 s
  });

  it('forgets samples older than the window, keeping the one just before it', () => {
    const m = new RateMeter(10_000, 1_000);
    m.add(update({ progress: 0 }), 0); // a slow start...
    m.add(update({ progress: 1 }), 10_000);
    m.add(update({ progress: 11 }), 15_000);
    m.add(update({ progress: 31 }), 20_000); // ...then 4%/s over the last 10 s
    expect(m.rate(20_000)).toBeCloseTo(3); // 30% over 10 s (from the sample at 10 s)
    m.add(update({ progress: 51 }), 25_000);
    expect(m.rate(25_000)).toBeCloseTo(4); // 40% over 10 s (from 15 s); the 0 s and 10 s samples are gone
  });

  it('a stalled job: the rate falls and the ETA grows as time passes without progress', () => {
    const m = new RateMeter(10_000, 1_000);
    m.add(update({ progress: 0 }), 0);
    m.add(update({ progress: 50 }), 5_000);
    expect(m.etaMs(5_000)).toBeCloseTo(5_000);
    expect(m.rate(10_000)).toBeCloseTo(5);
    expect(m.etaMs(10_000)).toBeCloseTo(10_000);
  });

  it('starts over on a new attempt or when progress goes back; no rate while not active', () => {
    const m = new RateMeter(10_000, 1_000);
    m.add(update({ progress: 0 }), 0);
    m.add(update({ progress: 50 }), 5_000);
    m.add(update({ state: 'queued', progress: 50, attempt: 1 }), 6_000);
    expect(m.rate(6_000)).toBeUndefined();
    m.add(update({ progress: 0, attempt: 2 }), 7_000);
    m.add(update({ progress: 10, attempt: 2 }), 9_000);
    expect(m.rate(9_000)).toBeCloseTo(5);
    m.add(update({ progress: 5, attempt: 2 }), 10_000); // went back: only this sample is left
    expect(m.rate(10_000)).toBeUndefined();
  });

  it('no ETA without a positive rate', () => {
    const m = new RateMeter(10_000, 1_000);
    m.add(update({ progress: 30 }), 0);
    m.add(update({ progress: 30 }), 3_000);
    expect(m.rate(3_000)).toBe(0);
    expect(m.etaMs(3_000)).toBeUndefined();
  });
});

describe('renderLine', () => {
  it('bar, percent, state, stage, attempt, rate and ETA', () => {
    const line = renderLine(update({ progress: 40, stage: 'transform', attempt: 2 }), { rate: 3.14, etaMs: 19_000, width: 10 });
    expect(line).toBe('[####------]  40% · active · stage transform · attempt 2 · 3.1%/s · ETA 19s');
  });

  it('an ETA below a second is <1s; none at 100%', () => {
    expect(renderLine(update({ progress: 97 }), { rate: 30, etaMs: 100, width: 1 })).toBe('[#]  97% · active · 30.0%/s · ETA <1s');
    expect(renderLine(update({ progress: 100 }), { rate: 30, etaMs: 0, width: 1 })).toBe('[#] 100% · active · 30.0%/s');
  });

  it('clamps progress, leaves out attempt 1, and the rate when not active', () => {
    expect(renderLine(update({ state: 'queued', progress: 140 }), { rate: 2, etaMs: 1000, width: 4 })).toBe('[####] 100% · queued');
    expect(renderLine(update({ progress: -3 }), { width: 4 })).toBe('[----]   0% · active');
  });

  it('a delayed job says when it is due; an ended one how long it ran', () => {
    expect(renderLine(update({ state: 'delayed', dueAt: 65_000 }), { now: 5_000, width: 2 })).toBe('[--]   0% · delayed · due in 1m 00s');
    expect(renderLine(update({ state: 'completed', progress: 100, startedAt: 1_000, finishedAt: 3_500 }), { width: 2 })).toBe('[##] 100% · completed · ran 3s');
  });
});

describe('fitWidth', () => {
  it('cuts to one short of the columns so a TTY line never wraps', () => {
    expect(fitWidth('abcdef', 6)).toBe('abcd…');
    expect(fitWidth('abcde', 6)).toBe('abcde');
    expect(fitWidth('abcdef', undefined)).toBe('abcdef');
  });
});

describe('ProgressView', () => {
  it('on a TTY redraws one line in place, ticks move the ETA, end() finishes the line', () => {
    const out: string[] = [];
    const view = new ProgressView((t) => out.push(t), true, () => 200);
    view.update(update({ progress: 0, stage: 'fetch' }), 0);
    view.update(update({ progress: 20, stage: 'fetch' }), 2_000);
    view.tick(2_000); // nothing changed: no redraw
    view.tick(4_000); // stalled for 2 s: the rate halves, the ETA doubles
    view.end();
    expect(out.length).toBe(4);
    expect(out.slice(0, 3).every((t) => t.startsWith('\r\x1b[2K') && !t.includes('\n'))).toBe(true);
    expect(out[1]).toContain('10.0%/s · ETA 8s');
    expect(out[2]).toContain('5.0%/s · ETA 16s');
    expect(out[3]).toBe('\n');
  });

  it('elsewhere writes one plain line per update that says something new, and no ticks', () => {
    const out: string[] = [];
    const view = new ProgressView((t) => out.push(t), false);
    view.update(update({ state: 'queued' }), 0);
    view.update(update({ progress: 10.2 }), 1_000);
    view.update(update({ progress: 10.4 }), 1_100); // rounds to the same line
    view.tick(5_000);
    view.update(update({ state: 'completed', progress: 100 }), 6_000);
    view.end();
    expect(out).toEqual(['[------------------------------]   0% · queued\n', '[###---------------------------]  10% · active\n', '[##############################] 100% · completed\n']);
  });

  it('cuts the TTY line to the terminal width', () => {
    const out: string[] = [];
    const view = new ProgressView((t) => out.push(t), true, () => 20);
    view.update(update({ progress: 50 }), 0);
    expect(out[0]).toBe('\r\x1b[2K[###############--…');
  });
});
