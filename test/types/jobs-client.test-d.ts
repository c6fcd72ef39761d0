// Typed end to end: a user's job set types the client that enqueues and watches its jobs.
import { connectJobs, type JobsConnection } from '@switchboard/client';
import { defineJob, z, type JobsOf } from '@switchboard/jobs';
import { describe, expectTypeOf, it } from 'vitest';

const report = defineJob({
  name: 'report',
  schema: z.object({ month: z.string().regex(/^\d{4}-\d{2}$/), pages: z.number().int().optional() }),
  stages: ['fetch', 'render', 'store'],
  async process() {
    return { url: 'https://example.test/r.pdf', bytes: 12 };
  },
});
const thumbnail = defineJob({
  name: 'thumbnail',
  schema: z.object({ src: z.string() }),
  async process() {
    return 'done' as const;
  },
});
const jobs = [report, thumbnail];

// Never called: type tests only compile these expressions.
declare const conn: JobsConnection<JobsOf<typeof jobs>>;

describe('connectJobs<typeof jobs>', () => {
  it('returns a connection typed by the job set', () => {
    const make = () => connectJobs<typeof jobs>('http://127.0.0.1:3000');
    expectTypeOf(make).returns.toEqualTypeOf<JobsConnection<JobsOf<typeof jobs>>>();
    // Untyped: any job name, unknown data.
    expectTypeOf(connectJobs('')).toEqualTypeOf<JobsConnection>();
  });

  it('types enqueue by job name and data', () => {
    void conn.enqueue('report', { month: '2026-11' });
    void conn.enqueue('thumbnail', { src: 'a.png' });
    // @ts-expect-error: no job named 'reports'
    void conn.enqueue('reports', { month: '2026-11' });
    // @ts-expect-error: month is a string
    void conn.enqueue('report', { month: 202611 });
    // @ts-expect-error: thumbnail takes { src }
    void conn.enqueue('thumbnail', { month: '2026-11' });
  });

  it('narrows updates by job name: stage and result types', () => {
    conn.onJobUpdated((u) => {
      if (u.name === 'report') {
        expectTypeOf(u.stage).toEqualTypeOf<'fetch' | 'render' | 'store' | undefined>();
        expectTypeOf(u.result).toEqualTypeOf<{ url: string; bytes: number } | undefined>();
        // @ts-expect-error: 'rendering' is not a stage of report
        if (u.stage === 'rendering') return;
      } else {
        expectTypeOf(u.name).toEqualTypeOf<'thumbnail'>();
        expectTypeOf(u.result).toEqualTypeOf<'done' | undefined>();
      }
    });
  });
});
