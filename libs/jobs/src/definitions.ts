import type { JobName, JobTypes } from '@switchboard/contracts';
import { SwitchboardError } from '@switchboard/protocol';
import { z } from 'zod';
import type { TaskPool } from './pool.js';

/** What a job processor gets besides its data. */
export interface JobContext<N extends JobName> {
  readonly jobId: string;
  readonly attempt: number;
  /** Aborted when the job is cancelled (from any process). Pass it to `pool.run`. */
  readonly signal: AbortSignal;
  readonly pool: TaskPool;
  /** Reports progress (0-100) and optionally the current stage; coalesced to ~10/s. */
  progress(percent: number, stage?: JobTypes[N]['stage']): void;
}

/** A job type: its data schema, retry policy and processor (a plain async function). */
export interface JobDefinition<N extends JobName> {
  readonly schema: z.ZodType<JobTypes[N]['data']>;
  /** Total attempts BullMQ makes (1 = no retry). */
  readonly attempts: number;
  /** Fixed delay between attempts. */
  readonly backoffMs: number;
  process(ctx: JobContext<N>, data: JobTypes[N]['data']): Promise<JobTypes[N]['result']>;
}

export type JobDefinitions = { readonly [N in JobName]: JobDefinition<N> };

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    const t = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(t);
      reject(signal.reason);
    };
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

/** Stage boundaries of `pipeline` in percent: fetch 0-20, transform 20-90, publish 90-100. */
const STAGES = { fetch: [0, 20], transform: [20, 90], publish: [90, 100] } as const;

export const JOB_DEFINITIONS: JobDefinitions = {
  hash: {
    schema: z.object({ rounds: z.number().int().min(1).max(50_000_000) }).strict(),
    attempts: 1,
    backoffMs: 0,
    async process(ctx, data) {
      ctx.progress(0, 'hashing');
      return ctx.pool.run('hash', { seed: 'switchboard', rounds: data.rounds }, { signal: ctx.signal, onProgress: (p) => ctx.progress(p, 'hashing') });
    },
  },
  pipeline: {
    schema: z
      .object({
        items: z.number().int().min(1).max(1_000_000),
        delayMs: z.number().int().min(0).max(60_000).optional(),
        failAtStage: z.enum(['fetch', 'transform', 'publish']).optional(),
        failAttempts: z.number().int().min(1).max(10).optional(),
      })
      .strict(),
    attempts: 3,
    backoffMs: 200,
    async process(ctx, data) {
      const delay = data.delayMs ?? 300;
      const failHere = (stage: keyof typeof STAGES) => {
        if (data.failAtStage === stage && (data.failAttempts === undefined || ctx.attempt <= data.failAttempts)) {
          throw new Error(`pipeline failed in stage '${stage}' on attempt ${ctx.attempt} (as requested by failAtStage)`);
        }
      };
      for (let i = 0; i <= 4; i++) {
        ctx.progress(STAGES.fetch[0] + (STAGES.fetch[1] - STAGES.fetch[0]) * (i / 4), 'fetch');
        if (i < 4) await sleep(delay / 4, ctx.signal);
      }
      failHere('fetch');
      const [t0, t1] = STAGES.transform;
      const checksum = await ctx.pool.run('transform', { items: data.items }, { signal: ctx.signal, onProgress: (p) => ctx.progress(t0 + ((t1 - t0) * p) / 100, 'transform') });
      failHere('transform');
      for (let i = 0; i <= 4; i++) {
        ctx.progress(STAGES.publish[0] + (STAGES.publish[1] - STAGES.publish[0]) * (i / 4), 'publish');
        if (i < 4) await sleep(delay / 4, ctx.signal);
      }
      failHere('publish');
      return { items: data.items, checksum };
    },
  },
};

export const JOB_NAMES = Object.keys(JOB_DEFINITIONS) as JobName[];

export function isJobName(name: unknown): name is JobName {
  return typeof name === 'string' && Object.hasOwn(JOB_DEFINITIONS, name);
}

/** Validates a job request; errors name the job, the field and what is expected. */
export function validateJob(name: unknown, data: unknown): { name: JobName; data: JobTypes[JobName]['data'] } {
  if (!isJobName(name)) {
    throw new SwitchboardError('SB_JOB_UNKNOWN', `Unknown job name ${JSON.stringify(name)}; known jobs: ${JOB_NAMES.join(', ')}.`);
  }
  const parsed = JOB_DEFINITIONS[name].schema.safeParse(data);
  if (!parsed.success) {
    const detail = parsed.error.issues.map((i) => `${i.path.length ? i.path.join('.') : 'data'}: ${i.message}`).join('; ');
    throw new SwitchboardError('SB_JOB_INVALID_DATA', `Invalid data for job '${name}': ${detail}.`);
  }
  return { name, data: parsed.data };
}
