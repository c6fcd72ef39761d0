import type { EnqueueOptions } from '@switchboard/contracts';
import { SwitchboardError } from '@switchboard/protocol';
import type { JobsOptions } from 'bullmq';
import type { JobDefinition } from './define-job.js';

// What an enqueue may ask (checked; SB_JOB_OPTIONS_INVALID names the option) and what BullMQ is given for it.

/**
 * BullMQ's options for one job: its id, the definition's retry policy, the enqueue options,
 * retention. Only the options that apply are set (BullMQ looks at keys, not only values), field
 * by field: this runs once per enqueue, where spreads and `definedOnly` cost more than the rest.
 */
export function bullOptions(jobId: string, definition: JobDefinition, opts: EnqueueOptions): JobsOptions {
  const out: JobsOptions = { jobId };
  if (definition.attempts !== undefined) out.attempts = definition.attempts;
  if (definition.backoffMs) out.backoff = { type: 'fixed', delay: definition.backoffMs };
  if (opts.delayMs) out.delay = opts.delayMs;
  if (opts.priority !== undefined) out.priority = opts.priority;
  out.removeOnComplete = { age: 3600, count: 1000 };
  out.removeOnFail = { age: 24 * 3600, count: 1000 };
  return out;
}

export const MAX_DELAY_MS = 30 * 24 * 3600 * 1000;

/** Checks enqueue options; SB_JOB_OPTIONS_INVALID names the option. */
export function checkOptions(options: unknown): EnqueueOptions {
  if (options === undefined || options === null) return {};
  if (typeof options !== 'object' || Array.isArray(options)) throw optionsInvalid(`options must be an object { delayMs?, priority?, idempotencyKey? }, got ${JSON.stringify(options)}`);
  const { delayMs, priority, idempotencyKey } = options as Record<string, unknown>;
  if (delayMs !== undefined && (!Number.isSafeInteger(delayMs) || (delayMs as number) < 0 || (delayMs as number) > MAX_DELAY_MS)) throw optionsInvalid(`delayMs must be an integer from 0 to ${MAX_DELAY_MS} (30 days), got ${JSON.stringify(delayMs)}`);
  if (priority !== undefined && (!Number.isSafeInteger(priority) || (priority as number) < 1 || (priority as number) > 2_097_152)) throw optionsInvalid(`priority must be an integer from 1 (highest) to 2097152, got ${JSON.stringify(priority)}`);
  if (idempotencyKey !== undefined && (typeof idempotencyKey !== 'string' || !/^[\x21-\x7e]{1,200}$/.test(idempotencyKey))) throw optionsInvalid(`idempotencyKey must be 1-200 printable characters without spaces, got ${JSON.stringify(idempotencyKey)}`);
  const watch = (options as Record<string, unknown>)['watch'];
  if (watch !== undefined && typeof watch !== 'boolean') throw optionsInvalid(`watch must be true or false, got ${JSON.stringify(watch)}`);
  // Only the options given: enqueueMany refuses any `'idempotencyKey' in opts`. Set one by one
  // (not `definedOnly`): this runs once per enqueue.
  const out: { -readonly [K in keyof EnqueueOptions]: EnqueueOptions[K] } = {};
  if (delayMs !== undefined) out.delayMs = delayMs as number;
  if (priority !== undefined) out.priority = priority as number;
  if (idempotencyKey !== undefined) out.idempotencyKey = idempotencyKey as string;
  return out;
}

export function optionsInvalid(message: string): SwitchboardError {
  return new SwitchboardError('SB_JOB_OPTIONS_INVALID', `Invalid enqueue options: ${message}.`);
}
