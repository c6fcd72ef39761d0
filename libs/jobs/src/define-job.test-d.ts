import type { JobUpdate } from '@switchboard/contracts';
import { describe, expectTypeOf, it } from 'vitest';
import { z } from 'zod';
import { defineJob, defineTask, JobsService, type JobContext, type JobsOf, type TaskDefinition } from './index.js';

// A user's task module and job set, as they would write them (never run: type tests only).
declare function render(input: { pages: number }, ctx: { progress(p: number): void }): Promise<{ bytes: number }>;
const renderTask = defineTask<typeof render>('file:///app/render.task.js');

const report = defineJob({
  name: 'report',
  schema: z.object({ month: z.string(), pages: z.number().int().default(3) }),
  stages: ['fetch', 'render', 'store'],
  attempts: 2,
  async process(ctx, data) {
    expectTypeOf(data).toEqualTypeOf<{ month: string; pages: number }>();
    ctx.progress(10, 'fetch');
    // @ts-expect-error: 'rendr' is not one of the job's stages
    ctx.progress(20, 'rendr');
    const out = await ctx.run(renderTask, { pages: data.pages }, { onProgress: (p) => ctx.progress(p, 'render') });
    expectTypeOf(out).toEqualTypeOf<{ bytes: number }>();
    // @ts-expect-error: the task takes { pages: number }
    await ctx.run(renderTask, { pages: 'three' });
    return { url: `/reports/${data.month}.pdf`, bytes: out.bytes };
  },
});

const ping = defineJob({
  name: 'ping',
  schema: z.object({ host: z.string() }),
  async process(ctx) {
    ctx.progress(50, 'any stage name goes when none are declared');
    return true;
  },
});

const jobs = [report, ping];
type Jobs = JobsOf<typeof jobs>;
declare const service: JobsService<typeof jobs>;

describe('defineJob', () => {
  it('infers name, data, stages and result from the definition', () => {
    expectTypeOf(report.name).toEqualTypeOf<'report'>();
    expectTypeOf<Extract<Jobs, { name: 'report' }>['stage']>().toEqualTypeOf<'fetch' | 'render' | 'store'>();
    expectTypeOf<Extract<Jobs, { name: 'report' }>['result']>().toEqualTypeOf<{ url: string; bytes: number }>();
    expectTypeOf<Extract<Jobs, { name: 'ping' }>['data']>().toEqualTypeOf<{ host: string }>();
    expectTypeOf<Jobs['name']>().toEqualTypeOf<'report' | 'ping'>();
  });

  it('types JobContext by the stage names', () => {
    expectTypeOf<Parameters<JobContext<'a' | 'b'>['progress']>[1]>().toEqualTypeOf<'a' | 'b' | undefined>();
  });

  it('types a task by its module', () => {
    expectTypeOf(renderTask).toEqualTypeOf<TaskDefinition<{ pages: number }, { bytes: number }>>();
  });

  it('narrows updates by job name', () => {
    const u = {} as JobUpdate<Jobs>;
    if (u.name === 'report') expectTypeOf(u.result).toEqualTypeOf<{ url: string; bytes: number } | undefined>();
    else expectTypeOf(u.result).toEqualTypeOf<boolean | undefined>();
  });
});

describe('JobsService typed by a job set', () => {
  it('infers its job types from the jobs option', () => {
    const make = () => new JobsService({ jobs, redis: 'redis://127.0.0.1:6379', publish: async () => {} });
    expectTypeOf(make).returns.toEqualTypeOf<JobsService<typeof jobs>>();
  });

  it('refuses a wrong job name or wrong data for enqueue', () => {
    void service.enqueue('report', { month: '2026-11', pages: 2 });
    // pages has a default: optional when enqueueing, always set in process (see above).
    void service.enqueue('report', { month: '2026-11' });
    void service.enqueue('ping', { host: 'a' });
    // @ts-expect-error: no job named 'reprot'
    void service.enqueue('reprot', { month: '2026-11' });
    // @ts-expect-error: month must be a string
    void service.enqueue('report', { month: 11, pages: 1 });
    // @ts-expect-error: ping's data is { host }
    void service.enqueue('ping', { month: '2026-11', pages: 1 });
  });
});
