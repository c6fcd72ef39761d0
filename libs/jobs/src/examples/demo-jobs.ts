import { z } from 'zod';
import { defineJob } from '../define-job.js';
import { defineTask } from '../define-task.js';
import type hash from './hash.task.js';
import type transform from './transform.task.js';

/**
 * The example job set that `npm start` runs when JOBS_MODULE is not set: `hash` (one CPU task in a
 * thread) and `pipeline` (I/O wait, a CPU stage in a thread, I/O wait; failures on request to show
 * retries). Your own job set is a module like this one: `export default [jobA, jobB]`.
 */

const hashTask = defineTask<typeof hash>(new URL('./hash.task.js', import.meta.url));
const transformTask = defineTask<typeof transform>(new URL('./transform.task.js', import.meta.url));

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    const onAbort = () => {
      clearTimeout(t);
      reject(signal.reason);
    };
    const t = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

export const hashJob = defineJob({
  name: 'hash',
  title: 'Hash',
  description: 'Iterated SHA-256 in a thread; the result is the final hex digest.',
  schema: z.object({ rounds: z.number().int().min(1).max(50_000_000) }).strict(),
  stages: ['hashing'],
  async process(ctx, data) {
    ctx.progress(0, 'hashing');
    return ctx.run(hashTask, { seed: 'switchboard', rounds: data.rounds }, { onProgress: (p) => ctx.progress(p, 'hashing') });
  },
});

/** Stage boundaries of `pipeline` in percent: fetch 0-20, transform 20-90, publish 90-100. */
const STAGES = { fetch: [0, 20], transform: [20, 90], publish: [90, 100] } as const;

export const pipelineJob = defineJob({
  name: 'pipeline',
  title: 'Pipeline',
  description: 'fetch (I/O wait), transform (CPU, in a thread), publish (I/O wait). failAtStage makes it throw there for the first failAttempts attempts (all if unset).',
  schema: z
    .object({
      items: z.number().int().min(1).max(1_000_000),
      delayMs: z.number().int().min(0).max(60_000).optional(),
      failAtStage: z.enum(['fetch', 'transform', 'publish']).optional(),
      failAttempts: z.number().int().min(1).max(10).optional(),
    })
    .strict(),
  stages: ['fetch', 'transform', 'publish'],
  attempts: 3,
  backoffMs: 200,
  async process(ctx, data) {
    const delay = data.delayMs ?? 300;
    const failHere = (stage: keyof typeof STAGES) => {
      if (data.failAtStage === stage && (data.failAttempts === undefined || ctx.attempt <= data.failAttempts)) {
        throw new Error(`pipeline failed in stage '${stage}' on attempt ${ctx.attempt} (as requested by failAtStage)`);
      }
    };
    const waitStage = async (stage: 'fetch' | 'publish') => {
      const [from, to] = STAGES[stage];
      for (let i = 0; i <= 4; i++) {
        ctx.progress(from + (to - from) * (i / 4), stage);
        if (i < 4) await sleep(delay / 4, ctx.signal);
      }
      failHere(stage);
    };
    await waitStage('fetch');
    const [t0, t1] = STAGES.transform;
    const checksum = await ctx.run(transformTask, { items: data.items }, { onProgress: (p) => ctx.progress(t0 + ((t1 - t0) * p) / 100, 'transform') });
    failHere('transform');
    await waitStage('publish');
    return { items: data.items, checksum };
  },
});

const demoJobs = [hashJob, pipelineJob];
export default demoJobs;
