// Job ownership with authentication on: two apps/hub node processes (AUTH_JWT_SECRET) over a
// private Redis and a worker process. Only the user who enqueued a job, or one with the admin role,
// may watch, get or cancel it: on the hub (HubError SB_JOB_FORBIDDEN) and on REST (403), on either
// node. Also REST authentication and CORS, and the CLI's --token.
import type { JobSnapshot, JobUpdate } from '@switchboard/contracts';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { within } from '../hub/fixture.js';
import { httpRequest } from '../hub/http-client.js';
import { JobWatch, api, runCli, startJobsDeployment, type JobsDeployment } from '../jobs/support.js';
import { mintHs256, testJwtSecret } from '../support/jwt.js';
import { buildClient, clientPool } from '../support/signalr.js';
import { negotiateRefused } from './support.js';

const secret = testJwtSecret();
const AUDIENCE = 'switchboard';
const ORIGIN = 'https://dashboard.example.com';
let d: JobsDeployment;
const pool = clientPool();
const tokens: Record<'alice' | 'bob' | 'admin' | 'expired', string> = { alice: '', bob: '', admin: '', expired: '' };
const bearer = (who: keyof typeof tokens) => ({ Authorization: `Bearer ${tokens[who]}` });

beforeAll(async () => {
  d = await startJobsDeployment({
    workers: [{}],
    hubEnv: { AUTH_JWT_SECRET: secret, AUTH_JWT_AUDIENCE: AUDIENCE, JOBS_ADMIN_ROLE: 'ops-admin', CORS_ORIGINS: `${ORIGIN},http://localhost:5173` },
  });
  tokens.alice = await mintHs256(secret, 'alice', { audience: AUDIENCE });
  tokens.bob = await mintHs256(secret, 'bob', { audience: AUDIENCE, roles: ['admin'] }); // 'admin' is not the configured admin role
  tokens.admin = await mintHs256(secret, 'root', { audience: AUDIENCE, roles: ['ops-admin'] });
  tokens.expired = await mintHs256(secret, 'alice', { audience: AUDIENCE, expiresIn: -10 });
}, 30_000);
afterEach(() => pool.stopAll());
afterAll(() => d?.stop());

const jobsHub = (base: string, who: keyof typeof tokens, transport: 'WebSockets' | 'LongPolling' = 'WebSockets') =>
  pool.connect(`${base}/hubs/jobs`, { transport, accessTokenFactory: () => tokens[who] });

describe('the jobs hub with authentication required', () => {
  it('an anonymous client (or an expired token) cannot connect: 401', async () => {
    const anonymous = pool.track(buildClient(`${d.hubA.url}/hubs/jobs`));
    await expect(within(anonymous.start(), 5000, 'start')).rejects.toHaveProperty('message', negotiateRefused(401));
    const expired = pool.track(buildClient(`${d.hubB.url}/hubs/chat`, { accessTokenFactory: () => tokens.expired }));
    await expect(within(expired.start(), 5000, 'start')).rejects.toHaveProperty('message', negotiateRefused(401));
  });

  it("alice's job (enqueued on node A): bob on node B may neither watch nor cancel it and sees none of its updates; alice and the admin watch it to the end", async () => {
    const aliceA = await jobsHub(d.hubA.url, 'alice');
    const { jobId } = await aliceA.invoke<{ jobId: string }>('enqueue', 'hash', { rounds: 200_000 });
    const bobB = await jobsHub(d.hubB.url, 'bob', 'LongPolling');
    const leaked: JobUpdate[] = [];
    bobB.on('jobUpdated', (u: JobUpdate) => leaked.push(u));
    const forbidden = /SB_JOB_FORBIDDEN: Job '.+' belongs to another user: only the user who enqueued it, or one with the 'ops-admin' role, may watch, get or cancel it\./;
    await expect(bobB.invoke('watch', jobId)).rejects.toThrow(forbidden);
    await expect(bobB.invoke('cancel', jobId)).rejects.toThrow(forbidden);

    const aliceB = await jobsHub(d.hubB.url, 'alice', 'LongPolling');
    const adminA = await jobsHub(d.hubA.url, 'admin');
    const [mine, admins] = await Promise.all([JobWatch.start(aliceB, jobId), JobWatch.start(adminA, jobId)]);
    const [end, adminEnd] = await Promise.all([mine.terminal(20_000), admins.terminal(20_000)]);
    expect(end).toMatchObject({ state: 'completed', owner: 'alice' });
    expect(adminEnd.state).toBe('completed');
    // bob was never in the job's group: no live update reached him.
    await new Promise((r) => setTimeout(r, 200));
    expect(leaked).toEqual([]);
    // The cancel bob tried never reached the job: it completed.
    expect((await api(d.hubA.url, 'GET', `/api/jobs/${jobId}`, undefined, undefined, bearer('alice'))).body).toMatchObject({ state: 'completed' });
  });
});

describe('the jobs REST API with authentication required', () => {
  it('401 without a token or with an expired one (JSON {error, code} and WWW-Authenticate)', async () => {
    const none = await api(d.hubA.url, 'POST', '/api/jobs', JSON.stringify({ name: 'hash', data: { rounds: 10 } }));
    expect(none.status).toBe(401);
    expect(none.body).toEqual({ code: 'SB_AUTH_REQUIRED', error: expect.stringMatching(/requires an access token: send Authorization: Bearer/) });
    const res = await fetch(`${d.hubB.url}/api/jobs/whatever`, { headers: bearer('expired'), signal: AbortSignal.timeout(5000) });
    expect([res.status, res.headers.get('www-authenticate')]).toEqual([401, 'Bearer']);
  });

  it('owner, others and the admin role, across nodes: 202 / 200 for alice, 403 for bob, 200 for the admin; alice cancels', async () => {
    const created = await api(d.hubA.url, 'POST', '/api/jobs', JSON.stringify({ name: 'pipeline', data: { items: 10, delayMs: 8000 } }), 'application/json', bearer('alice'));
    expect(created.status).toBe(202);
    const { jobId } = created.body as { jobId: string };
    const own = await api(d.hubB.url, 'GET', `/api/jobs/${jobId}`, undefined, undefined, bearer('alice'));
    expect([own.status, (own.body as JobSnapshot).owner]).toEqual([200, 'alice']);
    for (const [method, base] of [['GET', d.hubB.url], ['DELETE', d.hubA.url]] as const) {
      const r = await api(base, method, `/api/jobs/${jobId}`, undefined, undefined, bearer('bob'));
      expect(r.status).toBe(403);
      expect(r.body).toEqual({ code: 'SB_JOB_FORBIDDEN', error: expect.stringContaining(`Job '${jobId}' belongs to another user`) });
    }
    const admin = await api(d.hubB.url, 'GET', `/api/jobs/${jobId}`, undefined, undefined, bearer('admin'));
    expect([admin.status, (admin.body as JobSnapshot).jobId]).toEqual([200, jobId]);
    const cancelled = await api(d.hubB.url, 'DELETE', `/api/jobs/${jobId}`, undefined, undefined, bearer('alice'));
    expect(cancelled).toMatchObject({ status: 200, body: { cancelled: true } });
  });

  it('CORS on REST: preflights and responses for listed origins only', async () => {
    const pre = await httpRequest(`${d.hubA.url}/api/jobs`, { method: 'OPTIONS', headers: { Origin: ORIGIN, 'Access-Control-Request-Method': 'POST', 'Access-Control-Request-Headers': 'authorization, content-type' } });
    expect(pre.status).toBe(204);
    expect(pre.headers).toMatchObject({
      'access-control-allow-origin': ORIGIN,
      'access-control-allow-credentials': 'true',
      'access-control-allow-methods': 'GET, POST',
      'access-control-allow-headers': 'Authorization, Content-Type, X-Requested-With, X-SignalR-User-Agent',
    });
    const item = await httpRequest(`${d.hubB.url}/api/jobs/abc`, { method: 'OPTIONS', headers: { Origin: 'http://localhost:5173', 'Access-Control-Request-Method': 'DELETE' } });
    expect([item.status, item.headers['access-control-allow-methods']]).toEqual([204, 'GET, DELETE']);
    const unlisted = await httpRequest(`${d.hubA.url}/api/jobs`, { method: 'OPTIONS', headers: { Origin: 'https://evil.example.com', 'Access-Control-Request-Method': 'POST' } });
    expect(unlisted.status).toBe(204);
    expect(unlisted.headers['access-control-allow-origin']).toBeUndefined();
    // A real request: the 401 carries the CORS headers, so the page can read why.
    const denied = await httpRequest(`${d.hubA.url}/api/jobs/abc`, { headers: { Origin: ORIGIN } });
    expect([denied.status, denied.headers['access-control-allow-origin'], denied.headers['access-control-allow-credentials']]).toEqual([401, ORIGIN, 'true']);
    // And the hub paths of apps/hub too (negotiate preflight).
    const negotiate = await httpRequest(`${d.hubB.url}/hubs/jobs/negotiate?negotiateVersion=1`, { method: 'OPTIONS', headers: { Origin: ORIGIN, 'Access-Control-Request-Method': 'POST', 'Access-Control-Request-Headers': 'x-signalr-user-agent' } });
    expect([negotiate.status, negotiate.headers['access-control-allow-origin']]).toEqual([204, ORIGIN]);
  });
});

describe('the CLI passes --token (or SWITCHBOARD_TOKEN) to the hub', () => {
  it("alice gets her job; bob is refused with SB_JOB_FORBIDDEN; without a token the CLI says one is needed", async () => {
    const created = await api(d.hubA.url, 'POST', '/api/jobs', JSON.stringify({ name: 'hash', data: { rounds: 10 } }), 'application/json', bearer('alice'));
    const { jobId } = created.body as { jobId: string };
    const [asAlice, asBob, anonymous, viaEnv] = await Promise.all([
      runCli(['get', jobId, '--url', d.hubB.url, '--token', tokens.alice], 15_000),
      runCli(['get', jobId, '--url', d.hubA.url, '--token', tokens.bob], 15_000),
      runCli(['get', jobId, '--url', d.hubA.url], 15_000, { SWITCHBOARD_TOKEN: '' }),
      runCli(['get', jobId, '--url', d.hubA.url], 15_000, { SWITCHBOARD_TOKEN: tokens.admin }),
    ]);
    expect(asAlice.code).toBe(0);
    expect(JSON.parse(asAlice.stdout)).toMatchObject({ jobId, owner: 'alice' });
    expect(asBob.code).toBe(1);
    expect(asBob.stderr).toMatch(/^cli: SB_JOB_FORBIDDEN: Job '.+' belongs to another user/);
    expect(anonymous.code).toBe(1);
    expect(anonymous.stderr).toContain('refused the connection (401): it requires an access token: pass --token <jwt> or set SWITCHBOARD_TOKEN');
    expect(viaEnv.code).toBe(0);
    expect(JSON.parse(viaEnv.stdout)).toMatchObject({ jobId, owner: 'alice' });
  });
});
