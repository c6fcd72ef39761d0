// A Node client: enqueues a report, watches its stages live, and prints the result.
//   node dist/client.js [--month 2026-11] [--pages 40] [--cancel-after-ms 500] [--url http://127.0.0.1:3000]
import { parseArgs } from 'node:util';
import { buildConnection, connectJobs, HubClient } from '@switchboard/client';
import type jobs from './jobs.js';
import type { NotificationsClient } from './hubs.js';

const { values } = parseArgs({
  options: {
    url: { type: 'string', default: process.env['SWITCHBOARD_URL'] ?? 'http://127.0.0.1:3000' },
    month: { type: 'string', default: '2026-11' },
    pages: { type: 'string', default: '40' },
    'cancel-after-ms': { type: 'string' },
  },
});

// Typed by the job set: a wrong job name or wrong data does not compile; updates narrow by name.
const conn = connectJobs<typeof jobs>(values.url!);
// The project's own hub, typed by its interfaces (server methods, client methods).
const notifications = new HubClient<{ ping(): Promise<string> }, NotificationsClient>(buildConnection(`${values.url}/hubs/notifications`, {}));
notifications.on('reportReady', (note) => console.log(`notification: report ${note.month} is ready (${note.pages} pages)`));
await Promise.all([conn.start(), notifications.start()]);

const { jobId } = await conn.enqueue('report', { month: values.month!, pages: Number(values.pages) });
console.log(`enqueued report ${jobId}`);
const final = new Promise<void>((resolve) => {
  conn.onJobUpdated((u) => {
    if (u.jobId !== jobId || u.name !== 'report') return;
    console.log(`seq ${u.seq} ${u.state}${u.stage ? ` ${u.stage}` : ''} ${u.progress}%`);
    if (u.state === 'completed') console.log(`result: ${JSON.stringify(u.result)}`);
    if (u.error) console.log(`error: ${u.error}`);
    if (u.state === 'completed' || u.state === 'failed' || u.state === 'cancelled') {
      process.exitCode = u.state === 'completed' ? 0 : 1;
      resolve();
    }
  });
});
await conn.watch(jobId);
if (values['cancel-after-ms']) {
  setTimeout(() => void conn.cancel(jobId).then((c) => console.log(c ? 'cancelled' : 'it had already ended')), Number(values['cancel-after-ms']));
}
await final;
await new Promise((r) => setTimeout(r, 200)); // the notification follows the result
await Promise.all([conn.stop(), notifications.stop()]);
