import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { JobRunEnd } from '@switchboard/jobs';
import { serveMetrics } from '@switchboard/logging';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** Seconds; jobs run from milliseconds to minutes. */
const JOB_DURATION_BUCKETS = [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600];

const FINAL = new Set(['completed', 'failed', 'cancelled']);

/** What the gauges read at scrape time. */
export interface WorkerMetricsSources {
  activeJobs(): number;
  concurrency: number;
  pool(): { threads: number; busy: number; queued: number };
  poolSize: number;
}

/**
 * A worker process's Prometheus metrics (prom-client). Every series carries `worker_id`.
 * `jobEnded` is the JobsWorker's `onJobEnd` hook.
 */
export class WorkerMetrics {
  readonly registry = new Registry();
  private readonly finished: Counter<'job' | 'state'>;
  private readonly runs: Histogram<'job' | 'outcome'>;

  constructor(workerId: string, sources: WorkerMetricsSources) {
    const registers = [this.registry];
    this.registry.setDefaultLabels({ worker_id: workerId });
    collectDefaultMetrics({ register: this.registry });
    this.finished = new Counter({
      name: 'switchboard_worker_jobs_finished_total',
      help: 'Jobs this worker brought to a final state, by job name and state (completed, failed, cancelled).',
      labelNames: ['job', 'state'],
      registers,
    });
    this.runs = new Histogram({
      name: 'switchboard_worker_job_run_duration_seconds',
      help: 'Run time of each job run (attempt) on this worker, by job name and outcome (completed, failed, cancelled, retry, handed-back).',
      labelNames: ['job', 'outcome'],
      buckets: JOB_DURATION_BUCKETS,
      registers,
    });
    const gauge = (name: string, help: string, read: () => number) =>
      new Gauge({
        name,
        help,
        registers,
        collect() {
          this.set(read());
        },
      });
    gauge('switchboard_worker_active_jobs', 'Jobs running in this worker now.', sources.activeJobs);
    gauge('switchboard_worker_concurrency', 'Jobs this worker runs at once at most (WORKER_CONCURRENCY).', () => sources.concurrency);
    gauge('switchboard_worker_pool_size', 'piscina threads this worker may use (POOL_SIZE).', () => sources.poolSize);
    gauge('switchboard_worker_pool_threads', 'piscina threads started now.', () => sources.pool().threads);
    gauge('switchboard_worker_pool_busy', 'piscina threads running a task now.', () => sources.pool().busy);
    gauge('switchboard_worker_pool_queued', 'CPU tasks waiting for a piscina thread.', () => sources.pool().queued);
  }

  readonly jobEnded = (run: JobRunEnd): void => {
    this.runs.observe({ job: run.name, outcome: run.outcome }, run.durationMs / 1000);
    if (FINAL.has(run.outcome)) this.finished.inc({ job: run.name, state: run.outcome });
  };

  /**
   * Serves GET /metrics (Prometheus text) and GET /healthz on `port` (0 = pick a free port).
   * Resolves with the server and the URL it listens on.
   */
  async listen(port: number, host: string): Promise<{ server: Server; url: string }> {
    const server = createServer((req, res) => {
      // A target `new URL` cannot parse (`//[`) must not throw here: that would end the process.
      const path = URL.canParse(req.url ?? '/', 'http://localhost') ? new URL(req.url ?? '/', 'http://localhost').pathname : '';
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        res.writeHead(405, { Allow: 'GET, HEAD', 'Content-Type': 'text/plain' });
        return void res.end('Use GET.');
      }
      if (path === '/healthz') {
        const body = JSON.stringify({ status: 'ok', pid: process.pid });
        res.writeHead(200, { 'Content-Type': 'application/json', 'Cache-Control': 'no-store' });
        return void res.end(req.method === 'HEAD' ? undefined : body);
      }
      if (path !== '/metrics') {
        res.writeHead(404, { 'Content-Type': 'text/plain' });
        return void res.end('Not Found: this port serves /metrics and /healthz.');
      }
      serveMetrics(this.registry, req, res);
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => resolve());
    });
    const addr = server.address() as AddressInfo;
    const shown = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host;
    return { server, url: `http://${shown}:${addr.port}/metrics` };
  }
}
