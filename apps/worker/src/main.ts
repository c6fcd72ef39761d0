#!/usr/bin/env node
import type { Server } from 'node:http';
import { quitClient } from '@switchboard/backplane-redis';
import type { JobsClient } from '@switchboard/contracts';
import { createHubContext } from '@switchboard/hub-context';
import { DEMO_JOBS_MODULE, JobKeys, JobsWorker, SystemRegistry, failFastClient, loadJobsModule, publishUpdates, type JobCatalog } from '@switchboard/jobs';
import { isSwitchboardError } from '@switchboard/protocol';
import { loadConfig, type WorkerConfig } from './config.js';
import { Heartbeat } from './heartbeat.js';
import { createLogger, loadConfigOrExit } from '@switchboard/logging';
import { WorkerMetrics } from './metrics.js';

/** Kept back from SHUTDOWN_TIMEOUT_MS for handing jobs back and closing connections. */
const HAND_BACK_RESERVE_MS = 1000;

const startedAt = Date.now();
const config: WorkerConfig = loadConfigOrExit('worker', () => loadConfig());
const logger = createLogger(config.logLevel, { app: 'worker', workerId: config.workerId, pid: process.pid });

// The job set comes first: a bad JOBS_MODULE stops the process (exit 2) before it takes any job.
let jobs: JobCatalog;
try {
  jobs = await loadJobsModule(config.jobsModule ?? DEMO_JOBS_MODULE);
} catch (err) {
  if (!isSwitchboardError(err)) throw err;
  console.error(`worker: ${err.code}: ${err.message}`);
  process.exit(2);
}
if (!config.jobsModule) logger.info({ jobs: jobs.names }, 'JOBS_MODULE is not set: running the example job set');

const hub = createHubContext<JobsClient>({ hub: 'jobs', redis: config.redis, prefix: config.prefix, logger });
let metrics: WorkerMetrics | undefined;
const worker = new JobsWorker({
  jobs,
  redis: config.redis,
  prefix: config.prefix,
  poolSize: config.poolSize,
  concurrency: config.concurrency,
  lockDurationMs: config.lockDurationMs,
  stalledIntervalMs: config.stalledIntervalMs,
  // A job's final update also ends its group: its watchers leave it on every hub node.
  publish: publishUpdates(hub.clients),
  logger,
  onJobEnd: (run) => {
    metrics?.jobEnded(run);
    logger.debug({ jobId: run.jobId, job: run.name, attempt: run.attempt, outcome: run.outcome, durationMs: run.durationMs }, 'job run ended');
  },
});

// Heartbeats go through a fail-fast connection: during an outage they fail at once, not later.
const statusClient = failFastClient(config.redis);
const heartbeat = new Heartbeat(
  new SystemRegistry(statusClient, new JobKeys(config.prefix).system),
  () => ({
    workerId: config.workerId,
    pid: process.pid,
    startedAt,
    concurrency: config.concurrency,
    poolSize: config.poolSize,
    activeJobs: worker.activeJobs,
    jobs: jobs.names,
    seenAt: Date.now(),
  }),
  config.statsIntervalMs,
  logger,
);

let metricsServer: Server | undefined;
if (config.metricsPort) {
  metrics = new WorkerMetrics(config.workerId, { activeJobs: () => worker.activeJobs, concurrency: config.concurrency, poolSize: config.poolSize, pool: () => worker.pool.stats() });
  const { server, url } = await metrics.listen(config.metricsPort, config.metricsHost).catch((err: Error) => {
    console.error(`worker: cannot serve metrics on METRICS_PORT ${config.metricsPort}: ${err.message}`);
    process.exit(1);
  });
  metricsServer = server;
  console.log(`worker metrics on ${url}`);
}

await worker.ready();
// The first heartbeat waits for its connection (it has no offline queue).
if (statusClient.status === 'ready') heartbeat.start();
else statusClient.once('ready', () => heartbeat.start());
logger.info({ poolSize: config.poolSize, concurrency: config.concurrency, jobs: jobs.names }, 'worker started');
console.log(`worker ready: pid ${process.pid}, ${config.poolSize} threads, concurrency ${config.concurrency}, jobs: ${jobs.names.join(', ') || '(none)'}`);

/**
 * SIGTERM / SIGINT: take no new jobs; running jobs may finish until HAND_BACK_RESERVE_MS before
 * SHUTDOWN_TIMEOUT_MS, then the rest go back to the queue for another worker; leave the system
 * view; exit 0. Past SHUTDOWN_TIMEOUT_MS the process exits with 1 regardless (its jobs are then
 * resumed elsewhere after JOB_LOCK_MS, like a crashed worker's).
 */
let stopping = false;
async function shutdown(signal: string): Promise<void> {
  if (stopping) return;
  stopping = true;
  setTimeout(() => {
    logger.error({ timeoutMs: config.shutdownTimeoutMs }, 'shutdown took longer than SHUTDOWN_TIMEOUT_MS; exiting anyway');
    process.exit(1);
  }, config.shutdownTimeoutMs).unref();
  logger.info({ signal, activeJobs: worker.activeJobs }, 'stopping: no new jobs; running jobs finish or are handed back');
  await worker.close({ handBackAfterMs: Math.max(0, config.shutdownTimeoutMs - HAND_BACK_RESERVE_MS) });
  await heartbeat.stop();
  metricsServer?.close();
  metricsServer?.closeAllConnections();
  await Promise.allSettled([hub.close(), quitClient(statusClient)]);
  logger.info({}, 'stopped');
  process.exit(0);
}
process.on('SIGTERM', () => void shutdown('SIGTERM'));
process.on('SIGINT', () => void shutdown('SIGINT'));
