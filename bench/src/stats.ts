/** Percentile of a sorted-ascending array (nearest rank). */
export function percentile(sorted: number[], p: number): number {
  if (!sorted.length) return Number.NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i]!;
}

export function median(values: number[]): number {
  return percentile([...values].sort((a, b) => a - b), 50);
}

/** Run-to-run spread as (max - min) / median, in percent. */
export function spreadPercent(values: number[]): number {
  if (values.length < 2) return 0;
  const m = median(values);
  return m ? ((Math.max(...values) - Math.min(...values)) / m) * 100 : 0;
}

export function round(n: number, digits = 1): number {
  const f = 10 ** digits;
  return Math.round(n * f) / f;
}
