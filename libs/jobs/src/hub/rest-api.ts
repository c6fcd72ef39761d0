import type { IncomingMessage, ServerResponse } from 'node:http';
import { parseRequestUrl, type HubUser } from '@switchboard/hub-server';
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

const COLLECTION_METHODS = ['POST'] as const;
const ITEM_METHODS = ['GET', 'DELETE'] as const;

/**
 * The jobs REST API on every hub node: `POST /api/jobs` {name, data} → 202 {jobId},
 * `GET /api/jobs/:id` → snapshot, `DELETE /api/jobs/:id` → {cancelled}. Errors are JSON
 * `{ error, code }` with a 4xx status (503 when jobs are not configured). Requests authenticate as
 * hub connections do (`Authorization: Bearer`): with AUTH_REQUIRED an anonymous one gets 401, and
 * another user's job 403 (SB_JOB_FORBIDDEN). Returns false for other paths.
 */
export function handleJobsApi(req: IncomingMessage, res: ServerResponse, host: JobsApiHost): boolean {
  const path = parseRequestUrl(req)?.pathname ?? '';
  if (path !== '/api/jobs' && !path.startsWith('/api/jobs/')) return false;
  const id = path.startsWith('/api/jobs/') ? decodeId(path.slice('/api/jobs/'.length)) : undefined;
  if (host.cors(req, res, id === undefined ? COLLECTION_METHODS : ITEM_METHODS)) return true;
  void (async () => {
    const user = await host.authenticate(req);
    if (host.authRequired && !user) {
      req.resume();
      return error(res, 401, 'SB_AUTH_REQUIRED', 'This hub node requires an access token: send Authorization: Bearer <jwt> (valid, unexpired, signed by the configured key).', { 'WWW-Authenticate': 'Bearer' });
    }
    const jobs = host.jobs;
    if (!jobs) return error(res, 503, 'SB_JOBS_UNAVAILABLE', 'Jobs need Redis: start the hub node with REDIS_URL set and run workers (switchboard-worker).');
    if (id === undefined) {
      if (req.method !== 'POST') return error(res, 405, 'SB_HTTP_METHOD', 'Use POST /api/jobs to enqueue a job.', { Allow: 'POST' });
      const body = await readJson(req);
      if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new HttpError(400, 'SB_HTTP_INVALID_BODY', 'The body must be an object {"name": "...", "data": {...}}.');
      const { name, data } = body as { name?: unknown; data?: unknown };
      return send(res, 202, await jobs.enqueue(name as string, data, user?.id));
    }
    if (req.method === 'GET') return send(res, 200, await jobs.get(id, user));
    if (req.method === 'DELETE') return send(res, 200, { cancelled: await jobs.cancel(id, user) });
    return error(res, 405, 'SB_HTTP_METHOD', 'Use GET or DELETE on /api/jobs/:id.', { Allow: 'GET, DELETE' });
  })().catch((err) => {
    if (err instanceof HttpError) return error(res, err.status, err.code, err.message);
    if (isSwitchboardError(err)) {
      const status = err.code === 'SB_JOB_NOT_FOUND' ? 404 : err.code === 'SB_JOB_FORBIDDEN' ? 403 : err.code === 'SB_JOB_UNKNOWN' || err.code === 'SB_JOB_INVALID_DATA' ? 400 : 503;
      // Redis unreachable: the request was answered within the bound; say when to try again.
      return error(res, status, err.code, err.message, status === 503 ? { 'Retry-After': RETRY_AFTER_SECONDS } : {});
    }
    host.onError(err);
    if (!res.headersSent) error(res, 500, 'SB_INTERNAL', 'The server failed; see its log.');
    else res.end();
  });
  return true;
}
