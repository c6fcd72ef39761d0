import type { IncomingMessage, ServerResponse } from 'node:http';
import { parseRequestUrl, type HubUser } from '@switchboard/hub-server';
import type { EnqueueOptions } from '@switchboard/contracts';
import type { JobsService } from '../jobs-service.js';
import { isSwitchboardError } from '@switchboard/protocol';

const MAX_BODY = 64 * 1024;
/** What a 503 suggests (Retry-After): Redis reconnects retry within about 2 s. */
const RETRY_AFTER_SECONDS = '2';

function send(res: ServerResponse, status: number, value: unknown): void {
  const body = JSON.stringify(value);
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body), 'Cache-Control': 'no-store' });
  res.end(body);
}

function error(res: ServerResponse, status: number, code: string, message: string, headers: Record<string, string> = {}): void {
  for (const [k, v] of Object.entries(headers)) res.setHeader(k, v);
  send(res, status, { error: message, code });
}

class HttpError extends Error {
  constructor(readonly status: number, readonly code: string, message: string) {
    super(message);
  }
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  const type = req.headers['content-type'] ?? '';
  if (!type.toLowerCase().startsWith('application/json')) throw new HttpError(415, 'SB_HTTP_CONTENT_TYPE', 'Send the body as JSON with Content-Type: application/json.');
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY) throw new HttpError(413, 'SB_HTTP_BODY_TOO_LARGE', `The body is larger than ${MAX_BODY} bytes.`);
    chunks.push(chunk);
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    throw new HttpError(400, 'SB_HTTP_INVALID_JSON', 'The body is not valid JSON; send {"name": "...", "data": {...}}.');
  }
}

/** The id path segment, decoded; a malformed %-escape is left as is (no job id contains '%', so it ends as 404). */
function decodeId(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

/** What the REST API needs from the hub node. */
export interface JobsApiHost {
  /** undefined: the node has no Redis (503). */
  readonly jobs: JobsService<any> | undefined;
  /** The same authentication as the hubs (`HubServer.authenticate`: the Bearer header). */
  authenticate(req: IncomingMessage): Promise<HubUser | undefined>;
  /** AUTH_REQUIRED: anonymous requests get 401. */
  readonly authRequired: boolean;
  /** The hub server's CORS policy (`HubServer.applyCors`); true when it answered a preflight. */
  cors(req: IncomingMessage, res: ServerResponse, methods: readonly string[]): boolean;
  onError(err: unknown): void;
}

const COLLECTION_METHODS = ['GET', 'POST'] as const;
const ITEM_METHODS = ['GET', 'DELETE'] as const;
const ACTION_METHODS = ['POST'] as const;

/** HTTP status per stable code; anything else (Redis unreachable) is 503. */
const STATUS: Readonly<Record<string, number>> = {
  SB_JOB_NOT_FOUND: 404,
  SB_JOB_FORBIDDEN: 403,
  SB_JOB_UNKNOWN: 400,
  SB_JOB_INVALID_DATA: 400,
  SB_JOB_LIST_INVALID: 400,
  SB_JOB_OPTIONS_INVALID: 400,
  SB_JOB_STATE_CONFLICT: 409,
};

/** What a path under /api names: the collection, the job types, a job, or an action on a job. */
type Route = { kind: 'jobs' } | { kind: 'types' } | { kind: 'job'; id: string } | { kind: 'action'; id: string; action: 'retry' | 'remove' };

function route(path: string): Route | undefined {
  if (path === '/api/jobs') return { kind: 'jobs' };
  if (path === '/api/job-types') return { kind: 'types' };
  if (!path.startsWith('/api/jobs/')) return undefined;
  const rest = path.slice('/api/jobs/'.length);
  const m = /^([^/]+)\/(retry|remove)$/.exec(rest);
  if (m) return { kind: 'action', id: decodeId(m[1]!), action: m[2] as 'retry' | 'remove' };
  return { kind: 'job', id: decodeId(rest) };
}

/**
 * The jobs REST API on every hub node:
 * - `GET /api/job-types` → the job set (names, stages, attempts, the data's JSON Schema);
 * - `GET /api/jobs?state=&name=&limit=&cursor=` → a page `{ jobs, counts, nextCursor? }`, newest first;
 * - `POST /api/jobs` `{ name, data, options? }` → 202 `{ jobId }` (200 `{ jobId, duplicate: true }` for a
 *   repeated idempotency key);
 * - `GET /api/jobs/:id` → snapshot; `DELETE /api/jobs/:id` → `{ cancelled }`;
 * - `POST /api/jobs/:id/retry` → 202 `{ jobId }`; `POST /api/jobs/:id/remove` → `{ removed: true }`.
 * Errors are JSON `{ error, code }` (400, 403, 404, 405, 409, 413, 415; 503 with Retry-After when
 * Redis is unreachable or jobs are not configured). Requests authenticate as hub connections do
 * (`Authorization: Bearer`): with AUTH_REQUIRED an anonymous one gets 401, and another user's job
 * 403 (SB_JOB_FORBIDDEN). Returns false for other paths.
 */
export function handleJobsApi(req: IncomingMessage, res: ServerResponse, host: JobsApiHost): boolean {
  const url = parseRequestUrl(req);
  const r = route(url?.pathname ?? '');
  if (!r) return false;
  if (host.cors(req, res, r.kind === 'jobs' ? COLLECTION_METHODS : r.kind === 'job' ? ITEM_METHODS : r.kind === 'types' ? ['GET'] : ACTION_METHODS)) return true;
  void (async () => {
    const user = await host.authenticate(req);
    if (host.authRequired && !user) {
      req.resume();
      return error(res, 401, 'SB_AUTH_REQUIRED', 'This hub node requires an access token: send Authorization: Bearer <jwt> (valid, unexpired, signed by the configured key).', { 'WWW-Authenticate': 'Bearer' });
    }
    const jobs = host.jobs;
    if (!jobs) return error(res, 503, 'SB_JOBS_UNAVAILABLE', 'Jobs need Redis: start the hub node with REDIS_URL set and run workers (switchboard-worker).');
    const method = req.method ?? 'GET';
    switch (r.kind) {
      case 'types':
        if (method !== 'GET') return error(res, 405, 'SB_HTTP_METHOD', 'Use GET /api/job-types.', { Allow: 'GET' });
        return send(res, 200, jobs.jobTypes());
      case 'jobs': {
        if (method === 'GET') {
          const q = url!.searchParams;
          const query = Object.fromEntries(['state', 'name', 'limit', 'cursor'].flatMap((k) => (q.has(k) ? [[k, q.get(k)]] : [])));
          return send(res, 200, await jobs.listJobs(query, user));
        }
        if (method !== 'POST') return error(res, 405, 'SB_HTTP_METHOD', 'Use POST /api/jobs to enqueue a job, GET /api/jobs to list jobs.', { Allow: 'GET, POST' });
        const body = await readJson(req);
        if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new HttpError(400, 'SB_HTTP_INVALID_BODY', 'The body must be an object {"name": "...", "data": {...}, "options"?: {...}}.');
        const { name, data, options } = body as { name?: unknown; data?: unknown; options?: unknown };
        const result = await jobs.enqueue(name as string, data, options as EnqueueOptions | undefined, user?.id);
        return send(res, result.duplicate ? 200 : 202, result);
      }
      case 'job':
        if (method === 'GET') return send(res, 200, await jobs.get(r.id, user));
        if (method === 'DELETE') return send(res, 200, { cancelled: await jobs.cancel(r.id, user) });
        return error(res, 405, 'SB_HTTP_METHOD', 'Use GET or DELETE on /api/jobs/:id.', { Allow: 'GET, DELETE' });
      case 'action':
        if (method !== 'POST') return error(res, 405, 'SB_HTTP_METHOD', `Use POST /api/jobs/:id/${r.action}.`, { Allow: 'POST' });
        req.resume();
        if (r.action === 'retry') return send(res, 202, await jobs.retry(r.id, user));
        return send(res, 200, { removed: await jobs.remove(r.id, user) });
    }
  })().catch((err) => {
    if (err instanceof HttpError) return error(res, err.status, err.code, err.message);
    if (isSwitchboardError(err)) {
      const status = STATUS[err.code] ?? 503;
      // Redis unreachable: the request was answered within the bound; say when to try again.
      return error(res, status, err.code, err.message, status === 503 ? { 'Retry-After': RETRY_AFTER_SECONDS } : {});
    }
    host.onError(err);
    if (!res.headersSent) error(res, 500, 'SB_INTERNAL', 'The server failed; see its log.');
    else res.end();
  });
  return true;
}
