import type { EnqueueOptions } from '@switchboard/contracts';
import { formatNumber } from './schema-fields.js';

/** The raw text of the form's "Options" fields. */
export interface OptionValues {
  /** Seconds, decimals allowed. */
  readonly delay: string;
  readonly priority: string;
  readonly idempotencyKey: string;
}

export type OptionField = keyof OptionValues;
export type OptionsResult = { ok: true; options: EnqueueOptions | undefined } | { ok: false; errors: Partial<Record<OptionField, string>> };

// The hub's limits (libs/contracts EnqueueOptions); it checks again and its message is shown.
const MAX_DELAY_S = 30 * 24 * 3600;
const MAX_PRIORITY = 2_097_152;
const MAX_KEY = 200;

/**
 * Checks the enqueue options; empty fields are left out, and with none set there are no options
 * (so `enqueue` goes out with two arguments, as before options existed).
 */
export function readOptions(v: OptionValues): OptionsResult {
  const errors: Partial<Record<OptionField, string>> = {};
  const out: { delayMs?: number; priority?: number; idempotencyKey?: string } = {};
  const delay = v.delay.trim();
  if (delay !== '') {
    const s = Number(delay);
    if (!Number.isFinite(s) || s < 0) errors.delay = `Delay must be a number of seconds from 0 to ${formatNumber(MAX_DELAY_S)} (30 days).`;
    else if (s > MAX_DELAY_S) errors.delay = `Delay must be at most ${formatNumber(MAX_DELAY_S)} seconds (30 days); got ${formatNumber(s)}.`;
    else if (s > 0) out.delayMs = Math.round(s * 1000);
  }
  const priority = v.priority.trim();
  if (priority !== '') {
    const p = Number(priority);
    if (!Number.isInteger(p) || p < 1 || p > MAX_PRIORITY) errors.priority = `Priority must be a whole number from 1 (highest) to ${formatNumber(MAX_PRIORITY)}.`;
    else out.priority = p;
  }
  const key = v.idempotencyKey;
  if (key.trim() !== '') {
    // eslint-disable-next-line no-control-regex -- control characters are what is refused
    if (/[\u0000-\u001f\u007f]/.test(key)) errors.idempotencyKey = 'Idempotency key must be printable characters (no control characters).';
    else if ([...key].length > MAX_KEY) errors.idempotencyKey = `Idempotency key must be at most ${MAX_KEY} characters; got ${[...key].length}.`;
    else out.idempotencyKey = key;
  }
  if (Object.keys(errors).length) return { ok: false, errors };
  return { ok: true, options: Object.keys(out).length ? out : undefined };
}
