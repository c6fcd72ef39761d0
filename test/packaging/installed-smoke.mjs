// Runs INSIDE the temp project that test/packaging/install.test.ts installs from the tarballs
// (copied there as smoke.mjs): only what `npm install` put in its node_modules is reachable.
// Env: REDIS_URL, REDIS_PREFIX (unique per run). Prints `smoke: ok` and exits 0, or prints
// `smoke: <what failed>` and exits 1; a watchdog makes a hang an exit 1, never a stuck test.
import { existsSync, realpathSync } from 'node:fs';
import { createServer } from 'node:http';
import { createRequire } from 'node:module';
import { dirname, join, sep } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import * as signalR from '@microsoft/signalr';
import * as backplaneRedis from '@switchboard/backplane-redis';
import * as client from '@switchboard/client';
import * as contracts from '@switchboard/contracts';
import * as hubContext from '@switchboard/hub-context';
import * as hubServer from '@switchboard/hub-server';
import * as hubServerBackplane from '@switchboard/hub-server/backplane';
import * as jobs from '@switchboard/jobs';
import * as logging from '@switchboard/logging';
import * as protocol from '@switchboard/protocol';
import { Redis } from 'ioredis';

const here = realpathSync(dirname(fileURLToPath(import.meta.url)));
const require = createRequire(import.meta.url);
const watchdog = setTimeout(() => fail('did not finish within 60 s'), 60_000);

function fail(message) {
  console.error(`smoke: ${message}`);
  process.exit(1);
}
function check(ok, message) {
  if (!ok) fail(message);
}
function within(promise, ms, what) {
  return Promise.race([promise, new Promise((_, reject) => setTimeout(() => reject(new Error(`${what}: nothing within ${ms} ms`)), ms))]);
}

const { REDIS_URL: redisUrl, REDIS_PREFIX: prefix } = process.env;
check(redisUrl && prefix, 'set REDIS_URL and REDIS_PREFIX');

// 1. Every library entry loads from node_modules and has its main exports.
check(typeof protocol.SwitchboardError === 'function', '@switchboard/protocol: no SwitchboardError');
check(typeof logging.createLogger === 'function', '@switchboard/logging: no createLogger');
check(typeof hubServer.HubServer === 'function' && typeof hubServer.defineHub === 'function', '@switchboard/hub-server: no HubServer/defineHub');
check(typeof hubServerBackplane.BusScaleOut === 'function', '@switchboard/hub-server/backplane: no BusScaleOut');
check(typeof contracts === 'object', '@switchboard/contracts did not load');
check(typeof client.connectJobs === 'function', '@switchboard/client: no connectJobs');
check(typeof backplaneRedis.createRedisBackplane === 'function' && typeof backplaneRedis.isRedisClient === 'function', '@switchboard/backplane-redis: no createRedisBackplane/isRedisClient');
check(typeof hubContext.createHubContext === 'function', '@switchboard/hub-context: no createHubContext');
check(Object.keys(jobs).length > 0, '@switchboard/jobs exports nothing');
for (const name of ['protocol', 'hub-server', 'backplane-redis', 'hub-context', 'jobs']) {
  const at = realpathSync(join(here, 'node_modules/@switchboard', name));
  check(at.startsWith(here + sep), `@switchboard/${name} resolves outside the project (${at}): a workspace link leaked in`);
}

// 2. The ioredis used below is this project's own copy, not the repository's.
const ioredisAt = realpathSync(require.resolve('ioredis'));
check(ioredisAt.startsWith(here + sep), `ioredis resolves outside the project: ${ioredisAt}`);

// 3. A hub node: HubServer on a free loopback port over the Redis backplane.
const backplane = backplaneRedis.createRedisBackplane({ redis: redisUrl, prefix });
check(await backplane.bus.ready(), `Redis at ${redisUrl} is not reachable`);
const hubs = new hubServer.HubServer({ secret: 'packaging-smoke-secret-0123456789', scaleOut: backplane.scaleOut });
hubs.mapHub('/hubs/smoke', hubServer.defineHub()({ methods: { Join: (ctx, group) => ctx.groups.add(ctx.connectionId, String(group)) } }));
const server = createServer();
hubs.attach(server);
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
const url = `http://127.0.0.1:${server.address().port}`;

// 4. The official client joins a group through a hub method.
const connection = new signalR.HubConnectionBuilder().withUrl(`${url}/hubs/smoke`).configureLogging(signalR.LogLevel.Warning).build();
const received = new Promise((resolve) => connection.on('jobUpdated', (update) => resolve(update)));
await within(connection.start(), 10_000, 'connection.start');
await within(connection.invoke('Join', 'job:42'), 10_000, 'Join');

// 5. A hub context with a client the caller made from its own ioredis sends to that group.
const redis = new Redis(redisUrl);
check(backplaneRedis.isRedisClient(redis) && !backplaneRedis.isClusterClient(redis), 'isRedisClient refuses a plain ioredis client');
const hub = hubContext.createHubContext({ hub: 'smoke', redis, prefix });
const update = { id: '42', seq: 1, state: 'active', progress: 0.5 };
await within(hub.clients.group('job:42').jobUpdated(update), 10_000, 'hub context send');
const got = await within(received, 10_000, 'jobUpdated in the official client');
check(JSON.stringify(got) === JSON.stringify(update), `the client got ${JSON.stringify(got)}, expected ${JSON.stringify(update)}`);

// 6. Something that is not an ioredis client fails at once, saying what was passed.
try {
  hubContext.createHubContext({ hub: 'smoke', redis: { host: '127.0.0.1', port: 6379 } });
  fail('a plain object as redis was accepted');
} catch (err) {
  check(err.code === 'SB_CONFIG_INVALID' && /plain object with keys host, port/.test(err.message), `wrong error for a plain object: ${err.code} ${err.message}`);
}

// 7. The hub app finds the dashboard of the installed @switchboard/web, and serves it.
const staticFiles = await import(pathToFileURL(join(here, 'node_modules/@switchboard/hub-app/dist/static-files.js')).href);
const web = staticFiles.findWebDist();
check(web.source === 'package' && realpathSync(web.dir).startsWith(here + sep), `the hub app looks for the dashboard in ${web.dir} (${web.source})`);
check(existsSync(join(web.dir, 'index.html')), `no index.html in ${web.dir}`);
const files = createServer((req, res) => void staticFiles.serveStatic(new URL(req.url, url).pathname, res).then((ok) => ok || res.writeHead(404).end()));
await new Promise((resolve) => files.listen(0, '127.0.0.1', resolve));
const home = await fetch(`http://127.0.0.1:${files.address().port}/`);
check(home.status === 200 && /<html/i.test(await home.text()), `the dashboard answered ${home.status}`);
files.close();

await connection.stop();
await hub.close();
await hubs.close();
await backplane.close();
await redis.quit();
server.closeAllConnections();
server.close();
clearTimeout(watchdog);
console.log('smoke: ok');
process.exit(0);
