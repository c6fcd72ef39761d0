import type { JobUpdate } from '@switchboard/contracts';
import { formatDuration } from './duration.js';

// Everything here is pure (clocks are passed in as `now`, output goes to an injected `write`), so
// the rate and ETA math and the redraw are unit-tested without timers or a terminal.

const TERMINAL = new Set(['completed', 'failed', 'cancelled', 'lost']);

interface Sample {
  readonly t: number;
  readonly p: number;
}

/**
 * Progress rate in percent per second over a recent window, and the ETA from it. The window keeps
 * the samples of the last `windowMs` plus the one just before them, so a job that reports rarely
 * still has a rate over at least the window. The rate is measured up to `now`, not up to the last
 * sample: a job that stops reporting sees its rate fall and its ETA grow instead of a stale
 * estimate counting down to zero. A new attempt, or progress going down, starts over.
 */
export class RateMeter {
  private samples: Sample[] = [];
  private attempt = 0;

  constructor(
    private readonly windowMs = 10_000,
    /** Below this span the rate is noise (two updates 5 ms apart), so none is given. */
    private readonly minSpanMs = 500,
  ) {}

  add(u: Pick<JobUpdate, 'progress' | 'attempt' | 'state'>, now: number): void {
    const last = this.samples.at(-1);
    if (u.attempt !== this.attempt || (last && u.progress < last.p) || u.state !== 'active') {
      this.samples = [];
      this.attempt = u.attempt;
      // Only a running job makes progress: queued, delayed and ended ones have no rate.
      if (u.state !== 'active') return;
    }
    this.samples.push({ t: now, p: u.progress });
    // Drop the oldest while the one after it is also outside the window.
    while (this.samples.length > 2 && this.samples[1]!.t <= now - this.windowMs) this.samples.shift();
  }

  /** Percent per second, or undefined while there is too little to say. */
  rate(now: number): number | undefined {
    const first = this.samples[0];
    const last = this.samples.at(-1);
    if (!first || !last || this.samples.length < 2) return undefined;
    const span = Math.max(now, last.t) - first.t;
    if (span < this.minSpanMs) return undefined;
    return ((last.p - first.p) * 1000) / span;
  }

  /** Milliseconds to 100% at the current rate; undefined without a positive rate. */
  etaMs(now: number): number | undefined {
    const rate = this.rate(now);
    const last = this.samples.at(-1);
    if (rate === undefined || rate <= 0 || !last) return undefined;
    return ((100 - last.p) / rate) * 1000;
  }
}

export interface LineInfo {
  /** Percent per second (shown while active). */
  readonly rate?: number | undefined;
  readonly etaMs?: number | undefined;
  /** For a delayed job's "due in". */
  readonly now?: number;
  /** Bar width in characters. @defaultValue 30 */
  readonly width?: number;
}

/** One line describing a job update: bar, percent, state, stage, attempt, rate and ETA. */
export function renderLine(u: JobUpdate, info: LineInfo = {}): string {
  const width = info.width ?? 30;
  const progress = Math.max(0, Math.min(100, u.progress));
  const filled = Math.round((progress / 100) * width);
  const bar = `${'#'.repeat(filled)}${'-'.repeat(width - filled)}`;
  const parts = [`[${bar}] ${progress.toFixed(0).padStart(3)}%`, u.state];
  if (u.stage) parts.push(`stage ${u.stage}`);
  if (u.attempt > 1) parts.push(`attempt ${u.attempt}`);
  if (u.state === 'active') {
    if (info.rate !== undefined) parts.push(`${info.rate.toFixed(1)}%/s`);
    // Below a second the number only flickers; at 100% there is nothing left to wait for.
    if (info.etaMs !== undefined && progress < 100) parts.push(`ETA ${info.etaMs < 1000 ? '<1s' : formatDuration(info.etaMs)}`);
  }
  if (u.state === 'delayed' && u.dueAt !== undefined && info.now !== undefined) parts.push(`due in ${formatDuration(u.dueAt - info.now)}`);
  if (TERMINAL.has(u.state) && u.startedAt !== undefined && u.finishedAt !== undefined) parts.push(`ran ${formatDuration(u.finishedAt - u.startedAt)}`);
  return parts.join(' · ');
}

/** Cuts a line to fit `columns` (one short, so the cursor never wraps and `\r` redraws the same row). */
export function fitWidth(line: string, columns: number | undefined): string {
  if (!columns || columns < 2 || line.length < columns) return line;
  return `${line.slice(0, columns - 2)}…`;
}

/**
 * Shows a watched job: on a TTY one line redrawn in place (`\r`, clear line), redrawn by `tick`
 * too so the ETA moves between updates; otherwise one line per update (logs and pipes get no
 * control characters), and a line only when the text changed.
 */
export class ProgressView {
  private readonly meter = new RateMeter();
  private last: JobUpdate | undefined;
  private shown = '';
  private drawn = false;

  constructor(
    private readonly write: (text: string) => void,
    private readonly tty: boolean,
    private readonly columns: () => number | undefined = () => undefined,
  ) {}

  update(u: JobUpdate, now: number): void {
    this.meter.add(u, now);
    this.last = u;
    this.draw(now);
  }

  /** Redraws the TTY line with the rate and ETA as of `now` (a no-op otherwise). */
  tick(now: number): void {
    if (this.tty && this.last) this.draw(now);
  }

  /** Ends the redrawn line so what follows starts on its own row. */
  end(): void {
    if (this.tty && this.drawn) this.write('\n');
    this.drawn = false;
  }

  private draw(now: number): void {
    const u = this.last!;
    const line = renderLine(u, { rate: this.meter.rate(now), etaMs: this.meter.etaMs(now), now });
    if (this.tty) {
      const fitted = fitWidth(line, this.columns());
      if (fitted === this.shown && this.drawn) return;
      this.write(`\r\x1b[2K${fitted}`);
      this.shown = fitted;
      this.drawn = true;
      return;
    }
    // Rate and ETA change with every update; compare what else the line says.
    const key = renderLine(u, { now });
    if (key === this.shown) return;
    this.shown = key;
    this.write(`${line}\n`);
  }
}
