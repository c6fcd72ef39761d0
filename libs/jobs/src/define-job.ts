import type { HasJobShape } from '@switchboard/contracts';
import { SwitchboardError } from '@switchboard/protocol';
import { describe, type TaskDefinition } from './define-task.js';
import { definedOnly } from './defined-only.js';

/**
 * A schema for a job's data: a zod schema (`z.object({...})`), or anything with zod's `safeParse`.
 * The data type of the job is the schema's output type.
 */
export interface DataSchema<T = unknown> {
  safeParse(data: unknown): { success: true; data: T } | { success: false; error: { issues: readonly SchemaIssue[] } };
}
export interface SchemaIssue {
  readonly path: readonly PropertyKey[];
  readonly message: string;
}
/** The data type a schema produces (what `process` gets, defaults filled in). */
export type SchemaOutput<Z> = Z extends { safeParse(data: unknown): infer R } ? (R extends { success: true; data: infer T } ? T : never) : never;
/** The data type a schema accepts (what `enqueue` takes: fields with defaults are optional). */
export type SchemaInput<Z> = Z extends { _zod: { input: infer I } } ? I : Z extends { '~standard': { types?: { input: infer I } } } ? I : SchemaOutput<Z>;

/** Options of `ctx.run`. */
export interface TaskRunOptions {
  /** Called on the main thread with each progress report (0-100) of the task. */
  onProgress?: (percent: number) => void;
}

/** What a job's `process` gets besides its data. */
export interface JobContext<S extends string = string> {
  readonly jobId: string;
  /** 1 for the first run, 2 for the first retry, ... */
  readonly attempt: number;
  /** Aborted when the job is cancelled (from any process) or its worker shuts down and hands it back. */
  readonly signal: AbortSignal;
  /**
   * Reports progress (0-100) and optionally the current stage (one of the job's `stages`, when it
   * declares them). Coalesced to about 10 updates per second per job; cheap to call in a loop.
   */
  progress(percent: number, stage?: S): void;
  /**
   * Runs a CPU task (`defineTask`) in this worker's thread pool with `input` (structured-cloned).
   * Cancelling the job terminates the thread, which frees it at once; the promise then rejects.
   */
  run<I, O>(task: TaskDefinition<I, O>, input: I, options?: TaskRunOptions): Promise<O>;
}

/** Marks a job definition at run time (a string, so a second copy of this package still recognises it). */
export const JOB_BRAND = 'switchboard.job/1';

/**
 * A job type: its name, data schema, stages, retry policy and processor. Made by `defineJob`.
 * `D` is the data `enqueue` takes (the schema's input), `P` what `process` gets (its output).
 */
export interface JobDefinition<N extends string = string, D = any, S extends string = string, R = unknown, P = D>
  extends HasJobShape<{ readonly name: N; readonly data: D; readonly stage: S; readonly result: R }> {
  readonly '~switchboard': typeof JOB_BRAND;
  readonly name: N;
  readonly schema: DataSchema<P>;
  /** The stage names `progress` may report, in order; empty when the job declares none (any name goes). */
  readonly stages: readonly S[];
  /** Total runs BullMQ makes (1 = no retry). */
  readonly attempts: number;
  /** Fixed delay between attempts, ms. */
  readonly backoffMs: number;
  readonly title?: string;
  readonly description?: string;
  process(ctx: JobContext<S>, data: P): Promise<R>;
}

/** What `defineJob` takes. */
export interface JobSpec<N extends string, Z extends DataSchema, S extends string, R> {
  /** Unique within the job set: letters, digits and `. _ : -`, starting with a letter, at most 64. */
  name: N;
  /** The data's schema; `enqueue` validates against it on the hub node before anything is queued. */
  schema: Z;
  /** Stage names, in order (`ctx.progress(50, 'render')`); a name not listed does not compile. */
  stages?: readonly S[];
  /** Total runs (1 = no retry). @defaultValue 1 */
  attempts?: number;
  /** Fixed delay between attempts, ms. @defaultValue 0 */
  backoffMs?: number;
  title?: string;
  description?: string;
  /** Runs the job; its return value is the job's result (JSON-serialisable). Throw to fail the attempt. */
  process(ctx: JobContext<S>, data: SchemaOutput<Z>): Promise<R>;
}

export const JOB_NAME_PATTERN = /^[A-Za-z][A-Za-z0-9._:-]{0,63}$/;

/**
 * Defines a job type. Data, stage names and result types are inferred from `schema`, `stages` and
 * `process`; a job set is an array of these (`export default [reportJob, exportJob]`).
 *
 * ```ts
 * export const report = defineJob({
 *   name: 'report',
 *   schema: z.object({ month: z.string() }),
 *   stages: ['fetch', 'render', 'store'],
 *   async process(ctx, data) { ctx.progress(0, 'fetch'); ...; return { url }; },
 * });
 * ```
 */
export function defineJob<const N extends string, Z extends DataSchema, const S extends string = string, R = unknown>(
  spec: JobSpec<N, Z, S, R>,
): JobDefinition<N, SchemaInput<Z>, S, Awaited<R>, SchemaOutput<Z>> {
  const where = typeof spec?.name === 'string' ? `job '${spec.name}'` : 'defineJob';
  if (typeof spec !== 'object' || spec === null) throw invalid(`defineJob takes an object { name, schema, process }, got ${describe(spec)}.`);
  if (typeof spec.name !== 'string' || !JOB_NAME_PATTERN.test(spec.name)) {
    throw invalid(`${where}: name must be 1-64 characters (letters, digits, '.', '_', ':', '-'), starting with a letter; got ${describe(spec.name)}.`);
  }
  if (typeof spec.schema !== 'object' || spec.schema === null || typeof spec.schema.safeParse !== 'function') {
    throw invalid(`${where}: schema must be a zod schema (or have zod's safeParse), e.g. z.object({ month: z.string() }); got ${describe(spec.schema)}.`);
  }
  if (typeof spec.process !== 'function') throw invalid(`${where}: process must be an async function (ctx, data) => result; got ${describe(spec.process)}.`);
  const stages = spec.stages ?? [];
  if (!Array.isArray(stages) || stages.some((s) => typeof s !== 'string' || !s) || new Set(stages).size !== stages.length) {
    throw invalid(`${where}: stages must be an array of distinct non-empty names, e.g. ['fetch', 'render']; got ${JSON.stringify(stages)}.`);
  }
  const attempts = spec.attempts ?? 1;
  if (!Number.isSafeInteger(attempts) || attempts < 1 || attempts > 100) throw invalid(`${where}: attempts must be an integer from 1 to 100, got ${describe(attempts)}.`);
  const backoffMs = spec.backoffMs ?? 0;
  if (!Number.isSafeInteger(backoffMs) || backoffMs < 0 || backoffMs > 86_400_000) throw invalid(`${where}: backoffMs must be an integer from 0 to 86400000, got ${describe(backoffMs)}.`);
  type Definition = JobDefinition<N, SchemaInput<Z>, S, Awaited<R>, SchemaOutput<Z>>;
  return Object.freeze(definedOnly<Definition>({
    '~switchboard': JOB_BRAND,
    name: spec.name,
    schema: spec.schema as DataSchema<SchemaOutput<Z>>,
    stages: Object.freeze([...stages]),
    attempts,
    backoffMs,
    title: spec.title === undefined ? undefined : String(spec.title),
    description: spec.description === undefined ? undefined : String(spec.description),
    process: spec.process as Definition['process'],
  }));
}

/** True for a job definition from any copy of this package. */
export function isJobDefinition(value: unknown): value is JobDefinition {
  return typeof value === 'object' && value !== null && (value as JobDefinition)['~switchboard'] === JOB_BRAND;
}

function invalid(message: string): SwitchboardError {
  return new SwitchboardError('SB_CONFIG_INVALID', message);
}
