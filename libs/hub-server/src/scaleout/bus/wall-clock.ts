/**
 * The time since the epoch in ms with sub-millisecond precision, for timestamps compared across
 * processes (a send's publish time, read by the nodes that receive it).
 *
 * `Date.now()` alone has whole milliseconds, as coarse as the delays it would measure on one
 * host (0.2-5 ms). `performance.timeOrigin + performance.now()` is precise, and follows the wall
 * clock's slewing (NTP adjusts the monotonic clock's rate too) but not its steps. So it is used
 * while it agrees with `Date.now()` (which truncates: the precise value lies in [now, now + 1));
 * when it drifts out of that band, or after a step of the wall clock, the offset is taken again
 * from `Date.now()`.
 *
 * Contracts: the result never differs from `Date.now()` by more than about 1 ms; it never goes
 * backwards unless the wall clock itself stepped back (a re-anchor after drift keeps the last
 * value returned when that still lies in the band, so the monotonic clock running ahead of the
 * wall clock cannot make consecutive timestamps decrease).
 */
const BELOW = 0.05;
const ABOVE = 1.05;

let origin = performance.timeOrigin;
let last = 0;

export function wallClockMs(): number {
  const mono = performance.now();
  const wall = Date.now();
  let t = origin + mono;
  if (!(t >= wall - BELOW && t < wall + ABOVE)) {
    // Re-anchor to the band's middle, or to the last value while it is still inside the band (drift,
    // not a step of the wall clock): never below it then.
    t = last >= wall - BELOW && last < wall + ABOVE ? Math.max(last, wall + 0.5) : wall + 0.5;
    origin = t - mono;
  }
  last = t;
  return t;
}
