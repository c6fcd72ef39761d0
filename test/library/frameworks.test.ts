// The library guide (docs/library-guide.md), run as written: your own hub and the jobs hub with the
// jobs REST API, mounted on an Express 5 app and on a Fastify 5 app, a worker in the same process
// running your own job set, and official clients on WebSockets and long polling.
import { createServer, type Server } from 'node:http';
import { randomBytes } from 'node:crypto';
import { createHubContext, hubRef, type HubContext } from '@switchboard/hub-context';
import { createRedisBackplane } from '@switchboard/backplane-redis';
import { defineHub, HubServer } from '@switchboard/hub-server';
import { defineJob, JobsService, JobsWorker, jobGroup, z, type JobsClient } from '@switchboard/jobs';
import { createJobsHub, handleJobsApi } from '@switchboard/jobs/hub';
import express from 'express';
import Fastify from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { uniquePrefix } from '../support/redis.js';
import { clientPool, nextCalls, TRANSPORTS, type TransportName } from '../support/signalr.js';

const REDIS_URL = process.env['REDIS_URL'] || 'redis://127.0.0.1:6379';

interface GreeterClient {
  greeted(text: string): void;
}
const greeterHub = hubRef<GreeterClient>('greeter');
const greeter = defineHub<GreeterClient>()({
  methods: {
    async greet(ctx, name: string) {
      await ctx.clients.all.greeted(`hello, ${name}`);
      return ctx.transport;
    },
  },
});

const shout = defineJob({
  name: 'shout',
  schema: z.object({ text: z.string().max(100) }),
  stages: ['thinking'],
  async process(ctx, data) {
    ctx.progress(50, 'thinking');
    return data.text.toUpperCase();
  },
});
const jobs = [shout];

/** Everything a hub node built from the libraries needs; `listen` wires it into a framework. */
function switchboard(prefix: string) {
  const backplane = createRedisBackplane({ redis: REDIS_URL, prefix });
  const hubs = new HubServer({ secret: randomBytes(32).toString('base64'), scaleOut: backplane.scaleOut });
  hubs.mapHub(greeterHub, greeter);
  const jobsEndpoint = hubs.mapHub('/hubs/jobs', createJobsHub(() => service));
  const service: JobsService<typeof jobs> = new JobsService({ jobs, redis: REDIS_URL, prefix, publish: (u) => jobsEndpoint.clients.group(jobGroup(u.jobId)).jobUpdated(u) });
  // The worker side (its own process in production): updates go out through a hub context.
  const context: HubContext<JobsClient> = createHubContext<JobsClient>({ hub: 'jobs', redis: REDIS_URL, prefix });
  const worker = new JobsWorker({ jobs, redis: REDIS_URL, prefix, poolSize: 1, publish: (u) => context.clients.group(jobGroup(u.jobId)).jobUpdated(u) });
  const api = { jobs: service, authenticate: (req: Parameters<HubServer['authenticate']>[0]) => hubs.authenticate(req), authRequired: false, cors: () => false, onError: () => {} };
  return {
    hubs,
    api,
    async close() {
      await hubs.close();
      await worker.close();
      await Promise.all([service.close(), context.close()]);
      await backplane.close();
    },
  };
}

function listen(server: Server): Promise<string> {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(`http://127.0.0.1:${(server.address() as { port: number }).port}`)));
}

const mounts = {
  async 'Express 5'(sb: ReturnType<typeof switchboard>) {
    const app = express();
    // Before any body parser: the hub server reads its own request bodies.
    app.use((req, res, next) => {
      if (!sb.hubs.handleRequest(req, res) && !handleJobsApi(req, res, sb.api)) next();
    });
    app.get('/hello', (_req, res) => void res.send('express'));
    const server = createServer(app);
    server.on('upgrade', (req, socket, head) => {
      if (!sb.hubs.handleUpgrade(req, socket, head)) socket.destroy();
    });
    return { url: await listen(server), close: () => new Promise<void>((r) => (server.closeAllConnections(), server.close(() => r()))) };
  },
  async 'Fastify 5'(sb: ReturnType<typeof switchboard>) {
    const app = Fastify({ forceCloseConnections: true });
    // onRequest runs before Fastify reads the body; a request the hub server takes is hijacked.
    app.addHook('onRequest', (request, reply, done) => {
      if (sb.hubs.handleRequest(request.raw, reply.raw) || handleJobsApi(request.raw, reply.raw, sb.api)) reply.hijack();
      done();
    });
    app.get('/hello', async () => 'fastify');
    app.server.on('upgrade', (req, socket, head) => {
      if (!sb.hubs.handleUpgrade(req, socket, head)) socket.destroy();
    });
    await app.listen({ port: 0, host: '127.0.0.1' });
    const { port } = app.server.address() as { port: number };
    return { url: `http://127.0.0.1:${port}`, close: () => app.close() };
  },
};

for (const [framework, mount] of Object.entries(mounts)) {
  describe(`mounted in ${framework}`, () => {
    const pool = clientPool();
    let sb: ReturnType<typeof switchboard>;
    let app: { url: string; close(): Promise<void> };

    beforeAll(async () => {
      sb = switchboard(uniquePrefix('framework'));
      app = await mount(sb);
    });
    afterAll(async () => {
      await pool.stopAll();
      await sb?.close(); // closes the hub connections first: an HTTP server waits for open sockets
      await app?.close();
    });

    it('the framework still serves its own routes', async () => {
      expect(await (await fetch(`${app.url}/hello`)).text()).toBe(framework.startsWith('Express') ? 'express' : 'fastify');
    });

    for (const transport of ['WebSockets', 'LongPolling'] as TransportName[]) {
      it(`your own hub at /hubs/greeter over ${transport}`, async () => {
        expect(TRANSPORTS).toContain(transport);
        const c = await pool.connect(`${app.url}/hubs/greeter`, { transport });
        const got = nextCalls(c, 'greeted');
        expect(await c.invoke('greet', 'ana')).toBe(transport);
        expect(await got).toEqual([['hello, ana']]);
      });
    }

    it('your own job through the jobs hub and the REST API', async () => {
      const c = await pool.connect(`${app.url}/hubs/jobs`);
      const updates: { state: string; result?: unknown; stage?: string }[] = [];
      c.on('jobUpdated', (u: { state: string }) => void updates.push(u));
      const { jobId } = await c.invoke<{ jobId: string }>('enqueue', 'shout', { text: 'hi' });
      // The watch answers the snapshot: a job that ended before the watch shows it there, not live.
      const snapshot = await c.invoke<{ state: string; seq: number }>('watch', jobId);
      if (snapshot.state === 'completed') updates.push(snapshot);
      await expect.poll(() => updates.at(-1)?.state, { timeout: 10_000 }).toBe('completed');
      expect(updates.at(-1)).toMatchObject({ result: 'HI' });
      const rest = await fetch(`${app.url}/api/jobs/${jobId}`);
      expect(rest.status).toBe(200);
      expect(await rest.json()).toMatchObject({ jobId, name: 'shout', state: 'completed', result: 'HI' });
      const bad = await fetch(`${app.url}/api/jobs`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: 'hash', data: {} }) });
      expect(bad.status).toBe(400);
      expect(await bad.json()).toEqual({ code: 'SB_JOB_UNKNOWN', error: 'Unknown job name "hash"; known jobs: shout.' });
    });
  });
}
