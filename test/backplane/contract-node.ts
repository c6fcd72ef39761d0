import { createServer } from 'node:http';
import { createRedisBackplane, describeTarget, redisTargetFromEnv } from '@switchboard/backplane-redis';
import { HubServer, jsonLogger, type LogLevel } from '@switchboard/hub-server';
import { CONTRACT_HUB_PATH, contractAuthenticate, contractHub } from './contract-hub.js';

/**
 * One hub node of the scale-out contract suite, as a process: the contract hub at
 * /hubs/contract over the Redis backplane.
 *
 * Env: REDIS_URL or REDIS_CLUSTER_NODES (required), REDIS_PREFIX, HUB_SECRET (required),
 * PORT (0 = any free port), CLIENT_RESULT_TIMEOUT_MS, LONG_POLL_TIMEOUT_MS, DISCONNECT_TIMEOUT_MS, LOG_LEVEL (default warn).
 * TEST ONLY: a request with the header `x-test-close-connection: 1` is answered with
 * `Connection: close`, so a client's next request opens a new TCP connection (and a round-robin
 * proxy sends it to the next node).
 * Prints `listening on http://127.0.0.1:<port>` once Redis is reachable; SIGTERM closes cleanly.
 */
function fail(message: string): never {
  console.error(`contract-node: ${message}`);
  process.exit(2);
}

const env = process.env;
const redis = redisTargetFromEnv(env) ?? fail('set REDIS_URL or REDIS_CLUSTER_NODES.');
const secret = env['HUB_SECRET'] || fail('set HUB_SECRET (the same on every node).');
const port = Number(env['PORT'] || 0);
if (!Number.isInteger(port) || port < 0 || port > 65535) fail(`PORT must be an integer from 0 to 65535, got '${env['PORT']}'.`);
const clientResultTimeoutMs = Number(env['CLIENT_RESULT_TIMEOUT_MS'] || 30_000);
const longPollTimeoutMs = Number(env['LONG_POLL_TIMEOUT_MS'] || 90_000);
const disconnectTimeoutMs = Number(env['DISCONNECT_TIMEOUT_MS'] || 15_000);
const logger = jsonLogger((env['LOG_LEVEL'] as LogLevel | undefined) || 'warn', { app: 'contract-node', pid: process.pid });

const backplane = createRedisBackplane({ redis, logger, ...(env['REDIS_PREFIX'] ? { prefix: env['REDIS_PREFIX'] } : {}) });
if (!(await backplane.bus.ready())) {
  await backplane.close();
  fail(`Redis (${describeTarget(redis)}) was not reachable at startup.`);
}
const hubs = new HubServer({ secret, logger, authenticate: contractAuthenticate, scaleOut: backplane.scaleOut, clientResultTimeoutMs, longPollTimeoutMs, disconnectTimeoutMs });
hubs.mapHub(CONTRACT_HUB_PATH, contractHub);

const server = createServer();
server.on('request', (req, res) => {
  if (req.headers['x-test-close-connection'] === '1') res.shouldKeepAlive = false;
});
hubs.attach(server);
server.listen(port, '127.0.0.1', () => {
  const addr = server.address();
  console.log(`listening on http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : port}`);
});

let stopping = false;
async function shutdown(): Promise<void> {
  if (stopping) return;
  stopping = true;
  setTimeout(() => process.exit(1), 3000).unref();
  await hubs.close();
  await backplane.close();
  server.closeAllConnections();
  server.close(() => process.exit(0));
}
process.on('SIGTERM', () => void shutdown());
process.on('SIGINT', () => void shutdown());
