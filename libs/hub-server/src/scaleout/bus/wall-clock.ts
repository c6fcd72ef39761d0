/**
 * The time since the epoch in ms with sub-millisecond precision, for timestamps compared across
 * processes (a send's publish time, read by the nodes that receive it).
 *
 * `Date.now()` alone has whole milliseconds, as coarse as the delays it would measure on one
 * host (0.2-5 ms). `performance.timeOrigin + performance.now()` is precise, and follows the wall
 * clock's slewing (NTP adjusts the monotonic clock's rate too) but not its steps. So it is used
 * while it agrees with `Date.now()` (which truncates: the precise value lies in [now, now + 1));
 * after a step of the wall clock the offset is taken again from `Date.now()`.
 *
 * Contract: the result never differs from `Date.now()` by more than about 1 ms.
 */
let origin = performance.timeOrigin;

export function wallClockMs(): number {
  const mono = performance.now();
  const wall = Date.now();
  const t = origin + mono;
  if (t >= wall - 0.05 && t < wall + 1.05) return t;
  // A step of the wall clock (or a timeOrigin off by more than the tolerance): re-anchor to its middle.
  origin = wall + 0.5 - mono;
  return wall + 0.5;
}
