import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { PROTOCOLS, clientPool } from '../support/signalr.js';
import { api, startJobsDeployment, type JobsDeployment } from './support.js';

/** Awaits `p`, expecting a rejection; returns its message and how long it took. */
async function rejection(p: Promise<unknown>): Promise<{ message: string; ms: number }> {
  const t0 = Date.now();
  try {
    await p;
  } catch (err) {
    return { message: (err as Error).message, ms: Date.now() - t0 };
  }
  throw new Error('expected a rejection');
}

// Bad requests need no worker: a private Redis and two hub nodes.
describe('jobs: clear errors for bad names, data and ids', () => {
  let d: JobsDeployment;
  const pool = clientPool();

  beforeAll(async () => {
    d = await startJobsDeployment();
  });
  afterEach(() => pool.stopAll());
  afterAll(async () => {
    await d?.stop();
  });

  describe.each(PROTOCOLS)('hub methods (%s)', (protocol) => {
    it('enqueue: unknown names are SB_JOB_UNKNOWN, invalid data SB_JOB_INVALID_DATA, naming the field', async () => {
      const c = await pool.connect(`${d.hubA.url}/hubs/jobs`, { protocol });
      const cases: [unknown, unknown, RegExp][] = [
        ['nope', {}, /HubException: SB_JOB_UNKNOWN: Unknown job name "nope"; known jobs: hash, pipeline\./],
        [42, {}, /HubException: SB_JOB_UNKNOWN: Unknown job name 42;/],
        ['toString', {}, /HubException: SB_JOB_UNKNOWN: Unknown job name "toString"/],
        ['hash', { rounds: 0 }, /HubException: SB_JOB_INVALID_DATA: Invalid data for job 'hash': rounds: /],
        ['hash', { rounds: 1.5 }, /SB_JOB_INVALID_DATA: .*rounds: /],
        ['hash', { rounds: 50_000_001 }, /SB_JOB_INVALID_DATA: .*rounds: /],
        ['hash', { rounds: 10, extra: true }, /SB_JOB_INVALID_DATA: .*extra/],
        ['hash', null, /SB_JOB_INVALID_DATA: Invalid data for job 'hash': data: /],
        ['pipeline', { items: 5, failAtStage: 'nowhere' }, /SB_JOB_INVALID_DATA: .*failAtStage: /],
        ['pipeline', { items: 'many' }, /SB_JOB_INVALID_DATA: .*items: /],
      ];
      for (const [name, data, pattern] of cases) {
        const { message } = await rejection(c.invoke('enqueue', name, data));
        expect(message, `enqueue(${JSON.stringify(name)}, ${JSON.stringify(data)})`).toMatch(pattern);
      }
      // The connection is fine afterwards, and nothing was enqueued by the failures.
      const { jobId } = await c.invoke<{ jobId: string }>('enqueue', 'hash', { rounds: 1 });
      expect(jobId).toMatch(/^[A-Za-z0-9_-]{16}$/);
    });

    it('watch, cancel and unwatch of unknown or malformed ids reject promptly with SB_JOB_NOT_FOUND', async () => {
      const c = await pool.connect(`${d.hubB.url}/hubs/jobs`, { protocol });
      for (const id of ['AAAAAAAAAAAAAAAA', 'no such id!', 42, null, '']) {
        const watch = await rejection(c.invoke('watch', id));
        expect(watch.message, `watch(${JSON.stringify(id)})`).toMatch(/HubException: SB_JOB_NOT_FOUND: Unknown job id/);
        expect(watch.ms).toBeLessThan(2_000);
        const cancel = await rejection(c.invoke('cancel', id));
        expect(cancel.message, `cancel(${JSON.stringify(id)})`).toMatch(/HubException: SB_JOB_NOT_FOUND: Unknown job id/);
        expect(cancel.ms).toBeLessThan(2_000);
      }
      await expect(c.invoke('unwatch', 42)).rejects.toThrow(/unwatch takes the job id string/);
      expect(await c.invoke('unwatch', 'AAAAAAAAAAAAAAAA')).toBeUndefined();
    });
  });

  describe('REST API', () => {
    const post = (body: string, type?: string) => api(d.hubA.url, 'POST', '/api/jobs', body, type);

    it('POST validation: 415 for a non-JSON content type, 400 for malformed JSON, non-objects, unknown names and invalid data', async () => {
      const cases: [Awaited<ReturnType<typeof post>>, number, string, RegExp][] = [
        [await post('{"name":"hash","data":{"rounds":1}}', 'text/plain'), 415, 'SB_HTTP_CONTENT_TYPE', /Content-Type: application\/json/],
        [await post('{"name":"hash",'), 400, 'SB_HTTP_INVALID_JSON', /not valid JSON/],
        [await post(''), 400, 'SB_HTTP_INVALID_JSON', /not valid JSON/],
        [await post('[1,2]'), 400, 'SB_HTTP_INVALID_BODY', /must be an object/],
        [await post('"hash"'), 400, 'SB_HTTP_INVALID_BODY', /must be an object/],
        [await post('{"name":"nope","data":{}}'), 400, 'SB_JOB_UNKNOWN', /Unknown job name "nope"; known jobs: hash, pipeline/],
        [await post('{"data":{"rounds":1}}'), 400, 'SB_JOB_UNKNOWN', /Unknown job name undefined/],
        [await post('{"name":"hash","data":{"rounds":-1}}'), 400, 'SB_JOB_INVALID_DATA', /Invalid data for job 'hash': rounds: /],
        [await post('{"name":"pipeline"}'), 400, 'SB_JOB_INVALID_DATA', /Invalid data for job 'pipeline': data: /],
      ];
      for (const [res, status, code, message] of cases) {
        expect(res.status, code).toBe(status);
        expect(res.contentType).toMatch(/^application\/json/);
        expect(res.body).toEqual({ error: expect.stringMatching(message), code });
      }
    });

    it('unknown ids are 404 SB_JOB_NOT_FOUND for GET and DELETE, on either node', async () => {
      for (const base of [d.hubA.url, d.hubB.url]) {
        for (const [method, path] of [
          ['GET', '/api/jobs/AAAAAAAAAAAAAAAA'],
          ['DELETE', '/api/jobs/AAAAAAAAAAAAAAAA'],
          ['GET', '/api/jobs/short'],
          ['GET', '/api/jobs/'],
          ['GET', '/api/jobs/a%20b'],
          ['GET', '/api/jobs/%E0%A4%A'], // malformed percent-encoding
        ] as const) {
          const res = await api(base, method, path);
          expect(res.status, `${method} ${path}`).toBe(404);
          expect(res.body, `${method} ${path}`).toEqual({ error: expect.stringMatching(/^Unknown job id/), code: 'SB_JOB_NOT_FOUND' });
        }
      }
    });

    it('wrong methods are 405 with a JSON error', async () => {
      for (const [method, path] of [
        ['DELETE', '/api/jobs'],
        ['PUT', '/api/jobs'],
        ['GET', '/api/jobs/AAAAAAAAAAAAAAAA/retry'],
        ['DELETE', '/api/jobs/AAAAAAAAAAAAAAAA/remove'],
        ['POST', '/api/job-types'],
        ['PUT', '/api/jobs/AAAAAAAAAAAAAAAA'],
        ['POST', '/api/jobs/AAAAAAAAAAAAAAAA'],
      ] as const) {
        const res = await api(d.hubB.url, method, path);
        expect(res.status, `${method} ${path}`).toBe(405);
        expect(res.body, `${method} ${path}`).toEqual({ error: expect.stringMatching(/^Use /), code: 'SB_HTTP_METHOD' });
      }
    });

    it('a valid POST is 202 with a job id whose snapshot is queued (seq 1) on both nodes', async () => {
      const res = await post('{"name":"hash","data":{"rounds":5}}', 'application/json; charset=utf-8');
      expect(res.status).toBe(202);
      const { jobId } = res.body as { jobId: string };
      expect(jobId).toMatch(/^[A-Za-z0-9_-]{16}$/);
      for (const base of [d.hubA.url, d.hubB.url]) {
        const got = await api(base, 'GET', `/api/jobs/${jobId}`);
        expect(got.status).toBe(200);
        // No worker runs in this file: the job stays queued.
        expect(got.body).toMatchObject({ jobId, name: 'hash', seq: 1, state: 'queued', progress: 0, attempt: 1 });
      }
    });
  });
});
