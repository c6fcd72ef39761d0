#!/usr/bin/env node
import { createServer } from 'node:http';
import type { SystemClient } from '@switchboard/contracts';
import { createRedisBackplane, describeTarget, quitClient } from '@switchboard/backplane-redis';
import { HubServer, parseRequestUrl, type HubDefinition, type HubEndpoint } from '@switchboard/hub-server';
import { DEMO_JOBS_MODULE, JobKeys, JobsService, SystemRegistry, failFastClient, loadJobsModule, publishUpdates, queueCounter, type JobCatalog } from '@switchboard/jobs';
import { createJobsHub, handleJobsApi, type JobsApiHost } from '@switchboard/jobs/hub';
import { isSwitchboardError } from '@switchboard/protocol';
import { benchHub } from './bench-hub.js';
import { chatHub } from './chat-hub.js';
import { clockHub } from './clock-hub.js';
import { loadConfig, type HubConfig } from './config.js';
import { connectionCap, readOpenFilesLimit } from './fd-limit.js';
import { handleHealth, type HealthSources } from './health.js';
import { loadHubsModule, type MapHubs } from './hubs-module.js';
import { createLogger, loadConfigOrExit } from '@switchboard/logging';
import { HubMetrics } from './metrics.js';
import { watchServerErrors } from './server-errors.js';
import { serveStatic } from './static-files.js';
import { createSystemHub } from './system-hub.js';
import { SystemMonitor } from './system-monitor.js';

const startedAt = Date.now();
const config: HubConfig = loadConfigOrExit('hub', () => loadConfig());
const logger = createLogger(config.logLevel, { app: 'hub', nodeId: config.nodeId, pid: process.pid });
if (config.secretIsEphemeral) {
  logger.warn({}, 'HUB_SECRET is not set: using a random secret, so tokens from this node work on this node only. Set HUB_SECRET on every node.');
}

// The job set and your own hubs come first: a bad JOBS_MODULE or HUBS_MODULE stops the process
// (exit 2) before it listens.
let jobs: JobCatalog;
let mapOwnHubs: MapHubs | undefined;
try {
  jobs = await loadJobsModule(config.jobsModule ?? DEMO_JOBS_MODULE);
  mapOwnHubs = config.hubsModule ? await loadHubsModule(config.hubsModule) : undefined;
} catch (err) {
  if (!isSwitchboardError(err)) throw err;
  console.error(`hub: ${err.code}: ${err.message}`);
  process.exit(2);
}
if (!config.jobsModule) logger.info({ jobs: jobs.names }, 'JOBS_MODULE is not set: serving the example job set');

// The connection cap: MAX_CONNECTIONS, or below the open files limit so that a full node still
// answers its probes and refuses new clients with 503 (fd-limit.ts, docs/scaling.md#file-descriptors).
const cap = connectionCap(config, readOpenFilesLimit());
if (cap.log) logger[cap.log.level](cap.log.fields, cap.log.msg);

const metrics = new HubMetrics(config.nodeId, config.redis !== undefined);
const backplane = config.redis ? createRedisBackplane({ redis: config.redis, prefix: config.redisPrefix, logger, metrics: metrics.bus }) : undefined;
logger.info({ scaleOut: config.redis ? `redis (${describeTarget(config.redis)})` : 'in-memory (single node)' }, 'scale-out');
const hubs = new HubServer({
  secret: config.secret,
  logger,
  metrics: metrics.hubServer,
  ...(backplane ? { scaleOut: backplane.scaleOut } : {}),
  // Authentication, CORS and the connection cap: see the README's environment table.
  ...(config.jwt ? { jwt: config.jwt } : {}),
  ...(config.corsOrigins.length ? { cors: { origins: config.corsOrigins } } : {}),
  ...(cap.maxConnections ? { maxConnections: cap.maxConnections } : {}),
  maxWriteDelayMs: config.maxWriteDelayMs,
});
/** AUTH_REQUIRED: every hub refuses anonymous negotiates (401). */
const guard = <D extends HubDefinition>(definition: D): D => (config.authRequired ? { ...definition, requireUser: true } : definition);
hubs.mapHub('/hubs/chat', guard(chatHub));
hubs.mapHub('/hubs/clock', guard(clockHub));
// The benchmark hub (bench/): only when asked for, so production nodes do not serve it.
if (config.benchHub) hubs.mapHub('/hubs/bench', guard(benchHub));
// Jobs need Redis (BullMQ); without it the jobs hub and REST API answer with a clear error.
let jobsService: JobsService | undefined;
const jobsEndpoint = hubs.mapHub('/hubs/jobs', guard(createJobsHub(() => jobsService, { routedWatching: config.jobsRoutedWatching })));
if (config.redis) {
  jobsService = new JobsService({
    jobs,
    redis: config.redis,
    prefix: config.redisPrefix,
    adminRole: config.jobsAdminRole,
    timeoutMs: config.redisTimeoutMs,
    logger,
    // A job's final update also ends its group: its watchers leave it on every node (publishUpdates).
    publish: publishUpdates(jobsEndpoint.clients),
  });
}

// The system view: heartbeats, leader election and queue counts go through a fail-fast
// connection (no offline queue), which also tells readiness whether Redis answers.
const keys = new JobKeys(config.redisPrefix);
const statusClient = config.redis ? failFastClient(config.redis) : undefined;
const registry = statusClient ? new SystemRegistry(statusClient, keys.system) : undefined;
const queue = statusClient ? queueCounter(statusClient, keys) : undefined;
let systemEndpoint: HubEndpoint<SystemClient> | undefined;
const monitor = new SystemMonitor({
  nodeId: config.nodeId,
  startedAt,
  intervalMs: config.statsIntervalMs,
  connections: () => hubs.connectionStats(),
  ...(config.redis ? { backplaneDelay: () => metrics.delays.take() } : {}),
  ...(registry ? { registry } : {}),
  ...(queue ? { queueCounts: () => queue.read() } : {}),
  push: (stats) => systemEndpoint!.clients.all.systemStats(stats),
  logger,
  jobNames: jobs.names,
});
systemEndpoint = hubs.mapHub('/hubs/system', guard(createSystemHub(config.nodeId, () => monitor.stats())));
// HUBS_MODULE: your own hubs, mapped with the same AUTH_REQUIRED guard as the built-in ones.
if (mapOwnHubs) {
  try {
    await mapOwnHubs({ mapHub: ((target: never, definition: HubDefinition, options?: never) => hubs.mapHub(target, guard(definition) as never, options)) as HubServer['mapHub'] }, { logger });
  } catch (err) {
    console.error(`hub: SB_CONFIG_INVALID: HUBS_MODULE '${config.hubsModule}' failed while mapping its hubs: ${(err as Error).message}`);
    process.exit(2);
  }
}

metrics.setSources(
  backplane && queue && registry
    ? { backplaneConnected: () => backplane.bus.connected, queueCounts: () => queue.read(), jobsPerSecond: () => registry.jobsPerSecond() }
    : {},
);
const health: HealthSources = {
  nodeId: config.nodeId,
  startedAt,
  accepting: () => hubs.accepting,
  redisReachable: () => (backplane ? backplane.bus.connected && statusClient!.status === 'ready' : undefined),
};

const jobsApi: JobsApiHost = {
  get jobs() {
    return jobsService;
  },
  authenticate: (req) => hubs.authenticate(req),
  authRequired: config.authRequired,
  cors: (req, res, methods) => hubs.applyCors(req, res, methods),
  onError: (err) => logger.error({ err }, 'jobs API failed'),
};

const server = createServer((req, res) => {
  // `new URL` throws on targets such as `//[`: a throwing request listener would end the process.
  const path = parseRequestUrl(req)?.pathname;
  if (path === undefined) {
    res.writeHead(400, { 'Content-Type': 'text/plain' });
    return void res.end('Bad request target.');
  }
  if (handleHealth(req, res, path, health)) return;
  if (metrics.handle(req, res, path)) return;
  if (hubs.handleRequest(req, res)) return;
  if (handleJobsApi(req, res, jobsApi)) return;
  serveStatic(path, res)
    .then((served) => {
      if (!served) {
        res.writeHead(404, { 'Content-Type': 'text/plain' });
        res.end('Not Found');
      }
    })
    .catch((err) => {
      logger.error({ err, path }, 'static file failed');
      if (!res.headersSent) res.writeHead(500);
      res.end();
    });
});
server.on('upgrade', (req, socket, head) => {
  if (!hubs.handleUpgrade(req, socket, head)) socket.destroy();
});
// A failed listen (EADDRINUSE, EACCES) exits 1 with one clear line; failed accepts once listening
// (ENFILE, ENOBUFS, ...) are logged, rate-limited, and the node goes on serving.
watchServerErrors(server, { logger, port: config.port, host: config.host });
server.listen(config.port, config.host, () => {
  const addr = server.address();
  const port = typeof addr === 'object' && addr ? addr.port : config.port;
  const host = config.host === '0.0.0.0' || config.host === '::' ? '127.0.0.1' : config.host;
  // With Redis, the first heartbeat waits for the connection (it has no offline queue).
  if (!statusClient || statusClient.status === 'ready') monitor.start();
  else statusClient.once('ready', () => monitor.start());
  logger.info({ port, host: config.host }, 'hub node started');
  console.log(`listening on http://${host}:${port}`);
});

/**
 * SIGTERM / SIGINT: stop accepting (readyz, negotiate and upgrades answer 503), wait
 * SHUTDOWN_DELAY_MS so load balancers notice, leave the system view, send every client a Close
 * that allows reconnecting (clients with automatic reconnect move to another node), close Redis
 * and the HTTP server, exit 0. Past SHUTDOWN_TIMEOUT_MS the process exits with 1 regardless.
 */
let stopping = false;
async function shutdown(signal: string): Promise<void> {
  if (stopping) return;
  stopping = true;
  setTimeout(() => {
    logger.error({ timeoutMs: config.shutdownTimeoutMs }, 'shutdown took longer than SHUTDOWN_TIMEOUT_MS; exiting anyway');
    process.exit(1);
  }, config.shutdownTimeoutMs).unref();
  hubs.stopAccepting();
  logger.info({ signal, connections: hubs.connectionCount, delayMs: config.shutdownDelayMs }, 'shutting down: refusing new connections');
  if (config.shutdownDelayMs) await new Promise((r) => setTimeout(r, config.shutdownDelayMs));
  await monitor.stop();
  logger.info({ connections: hubs.connectionCount }, 'closing connections with reconnect allowed');
  await hubs.close();
  const httpClosed = new Promise<void>((resolve) => server.close(() => resolve()));
  server.closeIdleConnections();
  await Promise.allSettled([jobsService?.close(), queue?.close()]);
  await Promise.allSettled([statusClient ? quitClient(statusClient) : undefined, backplane?.close()]);
  await httpClosed;
  logger.info({}, 'stopped');
  process.exit(0);
}
process.on('SIGTERM', () => void shutdown('SIGTERM'));
process.on('SIGINT', () => void shutdown('SIGINT'));
