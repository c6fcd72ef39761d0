const UNIT_MS: Readonly<Record<string, number>> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/**
 * Milliseconds from `1500`, `250ms`, `5s`, `1.5s`, `2m`, `1h` or `1d` (a bare number is ms, as the
 * hub's `delayMs` is); undefined for anything else (negative, empty, unknown unit, `5 s`). The
 * range (0..30 days) is the hub's to check, so its message is the one people see.
 */
export function parseDuration(text: string): number | undefined {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)?$/.exec(text.trim());
  if (!m) return undefined;
  const ms = Number(m[1]) * UNIT_MS[m[2] ?? 'ms']!;
  return Number.isFinite(ms) ? Math.round(ms) : undefined;
}

/** A short human duration: `850ms`, `12s`, `3m 05s`, `2h 10m`, `3d 4h`. Negative counts as 0. */
export function formatDuration(ms: number): string {
  const t = Math.max(0, ms);
  if (t < 1000) return `${Math.round(t)}ms`;
  const s = Math.round(t / 1000);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m ${String(s % 60).padStart(2, '0')}s`;
  const h = Math.floor(m / 60);
  if (h < 24) return `${h}h ${String(m % 60).padStart(2, '0')}m`;
  return `${Math.floor(h / 24)}d ${h % 24}h`;
}
