// JOBS_MODULE: this project's job set, loaded by every hub node and worker.
import { mkdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHubContext, type HubContext } from '@switchboard/hub-context';
import { defineJob, defineTask, z } from '@switchboard/jobs';
import { notificationsHub, type NotificationsClient } from './hubs.js';
import type render from './render.task.js';

const renderTask = defineTask<typeof render>(new URL('./render.task.js', import.meta.url));

/** Opened on first use: hub nodes import this module too, and need no connection for it. */
let notifications: HubContext<NotificationsClient> | undefined;
function notify(): HubContext<NotificationsClient> {
  notifications ??= createHubContext({ hub: notificationsHub, redis: process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379', prefix: process.env['REDIS_PREFIX'] ?? 'sb:' });
  return notifications;
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener('abort', () => (clearTimeout(timer), reject(signal.reason)), { once: true });
  });
}

export const report = defineJob({
  name: 'report',
  title: 'Monthly report',
  description: 'Fetches the month’s figures, renders the PDF in a thread, stores it.',
  schema: z.object({
    month: z.string().regex(/^\d{4}-(0[1-9]|1[0-2])$/, 'a month as YYYY-MM'),
    pages: z.number().int().min(1).max(10_000).default(20),
    msPerPage: z.number().int().min(0).max(1000).default(5),
    /** For trying retries: the fetch fails on the first attempt. */
    failFirstFetch: z.boolean().optional(),
  }),
  stages: ['fetch', 'render', 'store'],
  attempts: 3,
  backoffMs: 100,
  async process(ctx, data) {
    ctx.progress(0, 'fetch');
    await sleep(50, ctx.signal); // the figures come from a slow service
    if (data.failFirstFetch && ctx.attempt === 1) throw new Error('the figures service timed out');
    ctx.progress(10, 'fetch');

    const pdf = await ctx.run(renderTask, { month: data.month, pages: data.pages, msPerPage: data.msPerPage }, { onProgress: (p) => ctx.progress(10 + p * 0.8, 'render') });

    ctx.progress(90, 'store');
    const dir = join(tmpdir(), 'switchboard-example-reports');
    await mkdir(dir, { recursive: true });
    const file = join(dir, `${data.month}-${ctx.jobId}.txt`);
    await writeFile(file, `report ${data.month}: ${pdf.pages} pages, sha256 ${pdf.digest}\n`);
    await notify().clients.all.reportReady({ jobId: ctx.jobId, month: data.month, pages: pdf.pages });
    return { month: data.month, pages: pdf.pages, bytes: pdf.bytes, digest: pdf.digest, file, attempt: ctx.attempt };
  },
});

const jobs = [report];
export default jobs;
