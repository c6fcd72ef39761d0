import { createServer } from 'node:http';
import { createRedisBackplane, describeTarget } from '@switchboard/backplane-redis';
import { HubServer, jsonLogger } from '@switchboard/hub-server';
import { JobsService, jobGroup } from '@switchboard/jobs';
import { chatHub } from './chat-hub.js';
import { clockHub } from './clock-hub.js';
import { createJobsHub } from './jobs-hub.js';
import { handleJobsApi } from './rest-api.js';
import { ConfigError, loadConfig } from './config.js';
import { serveStatic } from './static-files.js';

let config;
try {
  config = loadConfig();
} catch (err) {
  if (err instanceof ConfigError) {
    console.error(`hub: configuration error: ${err.message}`);
    process.exit(2);
  }
  throw err;
}
const logger = jsonLogger(config.logLevel, { app: 'hub', pid: process.pid });
if (config.secretIsEphemeral) {
  logger.warn({}, 'HUB_SECRET is not set: using a random secret, so tokens from this node work on this node only. Set HUB_SECRET on every node.');
}

const backplane = config.redis ? createRedisBackplane({ redis: config.redis, prefix: config.redisPrefix, logger }) : undefined;
logger.info({ scaleOut: config.redis ? `redis (${describeTarget(config.redis)})` : 'in-memory (single node)' }, 'scale-out');
const hubs = new HubServer({ secret: config.secret, logger, ...(backplane ? { scaleOut: backplane.scaleOut } : {}) });
hubs.mapHub('/hubs/chat', chatHub);
hubs.mapHub('/hubs/clock', clockHub);
// Jobs need Redis (BullMQ); without it the jobs hub and REST API answer with a clear error.
let jobsService: JobsService | undefined;
const jobsEndpoint = hubs.mapHub('/hubs/jobs', createJobsHub(() => jobsService));
if (config.redis) {
  jobsService = new JobsService({
    redis: config.redis,
    prefix: config.redisPrefix,
    publish: (update) => jobsEndpoint.clients.group(jobGroup(update.jobId)).jobUpdated(update),
  });
}

const server = createServer((req, res) => {
  if (hubs.handleRequest(req, res)) return;
  if (handleJobsApi(req, res, jobsService, (err) => logger.error({ err }, 'jobs API failed'))) return;
  const path = new URL(req.url ?? '/', 'http://localhost').pathname;
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
server.listen(config.port, config.host, () => {
  const addr = server.address();
  const port = typeof addr === 'object' && addr ? addr.port : config.port;
  const host = config.host === '0.0.0.0' || config.host === '::' ? '127.0.0.1' : config.host;
  console.log(`listening on http://${host}:${port}`);
});

let stopping = false;
async function shutdown(signal: string): Promise<void> {
  if (stopping) return;
  stopping = true;
  logger.info({ signal }, 'shutting down: closing connections with reconnect allowed');
  await hubs.close();
  await jobsService?.close();
  await backplane?.close();
  server.close(() => process.exit(0));
  setTimeout(() => process.exit(0), 3000).unref();
}
process.on('SIGTERM', () => void shutdown('SIGTERM'));
process.on('SIGINT', () => void shutdown('SIGINT'));
