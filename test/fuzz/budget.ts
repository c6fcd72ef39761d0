/**
 * The fuzzer's budget and reporting. `FUZZ_ITERATIONS` sets the cases per parser target (default
 * small enough for `npm test`); targets that need sockets run a fraction of it (`weight`).
 * `FUZZ_SEED` picks the cases; the same seed gives the same cases. `npm run fuzz` raises both.
 */

function envInt(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0) throw new Error(`${name} must be a non-negative integer, got '${raw}'`);
  return n;
}

export const FUZZ_ITERATIONS = envInt('FUZZ_ITERATIONS', 1500);
export const FUZZ_SEED = envInt('FUZZ_SEED', 0x5eed);

/** Cases for a target that costs `weight` relative to a parser case (at least 1). */
export function casesFor(weight: number): number {
  return Math.max(1, Math.round(FUZZ_ITERATIONS * weight));
}

/** A test timeout for `cases` cases of about `msPerCase` each: the 30 s default, or more for long runs. */
export function timeoutFor(cases: number, msPerCase: number): number {
  return Math.max(30_000, Math.ceil(cases * msPerCase * 3));
}

/** One failing case, with what is needed to turn it into a regression test. */
export interface Finding {
  readonly target: string;
  readonly seed: number;
  readonly index: number;
  readonly steps: readonly string[];
  /** The exact input, hex (the first 8 KiB of it; longer inputs say their length). */
  readonly input: string;
  readonly problem: string;
}

export class Findings {
  readonly list: Finding[] = [];

  add(target: string, index: number, steps: readonly string[], input: Uint8Array | readonly Uint8Array[], problem: string): void {
    const parts = input instanceof Uint8Array ? [input] : input;
    const shown = parts.map((p) => (p.length > 8192 ? `${Buffer.from(p.subarray(0, 8192)).toString('hex')}…(${p.length} bytes)` : Buffer.from(p).toString('hex')));
    this.list.push({ target, seed: FUZZ_SEED, index, steps, input: shown.join(' | '), problem });
  }

  /** A readable report of the first findings (empty when there are none). */
  report(max = 5): string {
    return this.list
      .slice(0, max)
      .map((f) => `${f.target} seed=${f.seed} case=${f.index} [${f.steps.join(', ')}]: ${f.problem}\n  input: ${f.input.slice(0, 2000)}`)
      .join('\n');
  }
}
