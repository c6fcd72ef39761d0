import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import type { SentinelSettings } from './options.js';

/** Answers true when a Redis at `url` replies to PING within `timeoutMs`. */
export async function pingRedis(url: string, timeoutMs = 2000): Promise<boolean> {
  const client = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, connectTimeout: timeoutMs, enableOfflineQueue: false });
  client.on('error', () => {});
  try {
    await client.connect();
    return (await client.ping()) === 'PONG';
  } catch {
    return false;
  } finally {
    client.disconnect();
  }
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

export interface OwnedRedis {
  readonly url: string;
  readonly child: ChildProcess;
  stop(): Promise<void>;
}

/** Whether `redis-server` is on the PATH. */
export function hasRedisServer(): boolean {
  return spawnSync('redis-server', ['--version'], { stdio: 'ignore' }).status === 0;
}

/**
 * Starts a private redis-server (loopback only) on a free port, with the settings docs/scaling.md
 * recommends for the queue: append-only persistence (`everysec`) and no eviction. Its files live
 * in a temporary folder for the run and are removed when it stops.
 */
export async function startPrivateRedis(): Promise<OwnedRedis> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'switchboard-redis-'));
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'yes', '--appendfsync', 'everysec', '--maxmemory-policy', 'noeviction', '--dir', dir], { stdio: 'ignore' });
  const url = `redis://127.0.0.1:${port}`;
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) {
      await new Promise<void>((resolve) => {
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
        setTimeout(() => child.kill('SIGKILL'), 3000).unref();
      });
    }
    rmSync(dir, { recursive: true, force: true });
  };
  const deadline = Date.now() + 5000;
  while (!(await pingRedis(url, 500))) {
    if (child.exitCode !== null || Date.now() > deadline) {
      await stop();
      throw new Error(`the private redis-server on port ${port} did not start`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return { url, child, stop };
}

export type RedisChoice = {
  /** What the processes are told: REDIS_URL, or the REDIS_SENTINELS group's variables. */
  env: Record<string, string>;
  /** For the summary line, without credentials. */
  shown: string;
  source: 'REDIS_SENTINELS' | 'REDIS_URL' | 'default' | 'private';
  owned?: OwnedRedis;
};

const urlChoice = (url: string, source: RedisChoice['source'], owned?: OwnedRedis): RedisChoice => ({
  env: { REDIS_URL: url },
  shown: url.replace(/\/\/[^@]*@/, '//***@'),
  source,
  ...(owned ? { owned } : {}),
});

/**
 * The Sentinel group of REDIS_SENTINELS: its master must answer a PING through the sentinels
 * (within a few seconds), or start fails saying why. Nothing is started. The processes get
 * REDIS_SENTINELS and REDIS_SENTINEL_NAME; the passwords reach them through the environment they
 * inherit. REDIS_URL is cleared for them so the logs show one Redis, not two.
 */
export async function chooseSentinel(s: SentinelSettings): Promise<RedisChoice> {
  const { sentinels, name, sentinelPassword, password } = s.target;
  const client = new Redis({
    sentinels: sentinels.map((a) => ({ ...a })),
    name,
    ...(sentinelPassword ? { sentinelPassword } : {}),
    ...(password ? { password } : {}),
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
    sentinelRetryStrategy: () => null,
    connectTimeout: 3000,
    sentinelCommandTimeout: 3000,
    enableOfflineQueue: false,
  });
  client.on('error', () => {});
  const shown = `sentinel master '${name}' via ${s.raw}`;
  try {
    await client.connect();
    await client.ping();
  } catch (err) {
    throw new Error(`REDIS_SENTINELS=${s.raw} (REDIS_SENTINEL_NAME=${name}) does not lead to a master that answers: ${(err as Error).message}. Check the sentinels, the name and the passwords, or unset REDIS_SENTINELS.`);
  } finally {
    client.disconnect();
  }
  return { env: { REDIS_SENTINELS: s.raw, REDIS_SENTINEL_NAME: name, REDIS_URL: '' }, shown, source: 'REDIS_SENTINELS' };
}

/**
 * REDIS_URL if set (it must answer); else the default address if a server answers there; else a
 * private redis-server from the PATH; else a clear error saying how to get one.
 */
export async function chooseRedis(redisUrl: string | undefined, defaultRedis: string): Promise<RedisChoice> {
  if (redisUrl) {
    if (await pingRedis(redisUrl)) return urlChoice(redisUrl, 'REDIS_URL');
    throw new Error(`REDIS_URL=${redisUrl.replace(/\/\/[^@]*@/, '//***@')} does not answer. Start that Redis, fix REDIS_URL, or unset it to let npm start find or start one.`);
  }
  if (await pingRedis(defaultRedis)) return urlChoice(defaultRedis, 'default');
  if (hasRedisServer()) {
    const owned = await startPrivateRedis();
    return urlChoice(owned.url, 'private', owned);
  }
  throw new Error(
    `no Redis found: nothing answers at ${defaultRedis} and redis-server is not on the PATH. Install it (Debian/Ubuntu: apt-get install -y redis-server; macOS: brew install redis) or set REDIS_URL.`,
  );
}
