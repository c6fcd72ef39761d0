import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { forkHub, spawnWorker, type Supervised } from './children.js';
import { parseLaunchOptions, UsageError, type LaunchOptions } from './options.js';
import { chooseRedis, chooseSentinel, freePort, type RedisChoice } from './redis.js';

const HUB_SCRIPT = fileURLToPath(new URL('../../hub/dist/main.js', import.meta.url));
const WORKER_SCRIPT = fileURLToPath(new URL('../../worker/dist/main.js', import.meta.url));
/** Above the hub and worker SHUTDOWN_TIMEOUT_MS default (10 s), so they drain before a SIGKILL. */
const STOP_GRACE_MS = 15_000;
const READY_TIMEOUT_MS = 30_000;

let options: LaunchOptions;
try {
  options = parseLaunchOptions(process.argv.slice(2), process.env);
} catch (err) {
  if (err instanceof UsageError) {
    console.error(err.message);
    process.exit(2);
  }
  throw err;
}
for (const script of [HUB_SCRIPT, WORKER_SCRIPT]) {
  if (!existsSync(script)) {
    console.error(`start: ${script} is missing; run 'npm run build' (npm start does it for you).`);
    process.exit(1);
  }
}

let redis: RedisChoice;
try {
  redis = options.sentinels ? await chooseSentinel(options.sentinels) : await chooseRedis(options.redisUrl, options.defaultRedis);
} catch (err) {
  console.error(`start: ${(err as Error).message}`);
  process.exit(1);
}

const port = options.port === 0 ? await freePort() : options.port;
const shared: Record<string, string> = {
  ...redis.env,
  HUB_SECRET: process.env['HUB_SECRET'] || randomBytes(32).toString('base64'),
  REDIS_PREFIX: process.env['REDIS_PREFIX'] ?? 'sb:',
  LOG_LEVEL: process.env['LOG_LEVEL'] || 'warn',
};
delete process.env['REDIS_CLUSTER_NODES'];

let stopping = false;
const hubs: Supervised[] = [];
const workers: Supervised[] = [];

/** Restarts a process that died on its own, after a short pause (not while stopping). */
function restartLater(list: Supervised[], index: number, start: () => Supervised, label: string, code: number | null, signal: string | null): void {
  if (stopping) return;
  // Exit code 2 is a configuration error (a bad JOBS_MODULE, HUBS_MODULE or variable; the process
  // printed why): restarting would fail the same way, so stop everything and say so.
  if (code === 2) {
    console.error(`start: ${label} stopped on a configuration error (see its message above); fix it and run again`);
    void stopAll('SIGTERM', 2);
    return;
  }
  console.error(`start: ${label} exited (${signal ?? `code ${code}`}); restarting it in 1 s`);
  setTimeout(() => {
    if (stopping) return;
    list[index] = start();
    list[index].ready.then(() => console.log(`start: ${label} is back (pid ${list[index]!.pid()})`));
  }, 1000).unref();
}

function startHub(i: number): Supervised {
  const label = `hub ${i + 1}`;
  return forkHub(
    {
      label,
      env: { ...shared, PORT: String(port), HOST: options.host },
      readyPattern: /^listening on /,
      onUnexpectedExit: (code, signal) => restartLater(hubs, i, () => startHub(i), label, code, signal),
    },
    HUB_SCRIPT,
    STOP_GRACE_MS,
  );
}

function startWorker(i: number): Supervised {
  const label = `worker ${i + 1}`;
  return spawnWorker(
    {
      label,
      env: shared,
      readyPattern: /^worker ready/,
      onUnexpectedExit: (code, signal) => restartLater(workers, i, () => startWorker(i), label, code, signal),
    },
    WORKER_SCRIPT,
    STOP_GRACE_MS,
  );
}

async function stopAll(signal: NodeJS.Signals, exitCode = 0): Promise<void> {
  if (stopping) return;
  stopping = true;
  console.log(`\nstart: stopping (${signal}): hub nodes and workers get SIGTERM and drain`);
  await Promise.all([...hubs, ...workers].map((p) => p.stop('SIGTERM')));
  await redis.owned?.stop();
  console.log('start: everything stopped');
  process.exit(exitCode);
}
process.on('SIGINT', () => void stopAll('SIGINT'));
process.on('SIGTERM', () => void stopAll('SIGTERM'));

for (let i = 0; i < options.hubs; i++) hubs.push(startHub(i));
for (let i = 0; i < options.workers; i++) workers.push(startWorker(i));

const timeout = setTimeout(() => {
  console.error(`start: not everything was ready within ${READY_TIMEOUT_MS / 1000} s; stopping`);
  void stopAll('SIGTERM', 1);
}, READY_TIMEOUT_MS);
await Promise.all([...hubs, ...workers].map((p) => p.ready));
clearTimeout(timeout);

const where = {
  REDIS_SENTINELS: 'from REDIS_SENTINELS; failovers are followed',
  REDIS_URL: 'from REDIS_URL',
  default: 'found at the default address',
  private: `a private redis-server started for this run (pid ${redis.owned?.child.pid})`,
}[redis.source];
const url = `http://${options.host === '0.0.0.0' ? '127.0.0.1' : options.host}:${port}`;
console.log(
  [
    `Switchboard is running at ${url}`,
    `  hub nodes: ${hubs.length} behind port ${port} (pids ${hubs.map((h) => h.pid()).join(', ')})`,
    `  workers:   ${workers.length}${workers.length ? ` (pids ${workers.map((w) => w.pid()).join(', ')})` : ''}`,
    `  Redis:     ${redis.shown} (${where})`,
    '  Ctrl-C stops everything.',
  ].join('\n'),
);
