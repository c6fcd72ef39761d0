import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';

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

/** Starts a private redis-server (no persistence, loopback only) on a free port. */
export async function startPrivateRedis(): Promise<OwnedRedis> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'switchboard-redis-'));
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir], { stdio: 'ignore' });
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

export type RedisChoice = { url: string; source: 'REDIS_URL' | 'default' | 'private'; owned?: OwnedRedis };

/**
 * REDIS_URL if set (it must answer); else the default address if a server answers there; else a
 * private redis-server from the PATH; else a clear error saying how to get one.
 */
export async function chooseRedis(redisUrl: string | undefined, defaultRedis: string): Promise<RedisChoice> {
  if (redisUrl) {
    if (await pingRedis(redisUrl)) return { url: redisUrl, source: 'REDIS_URL' };
    throw new Error(`REDIS_URL=${redisUrl.replace(/\/\/[^@]*@/, '//***@')} does not answer. Start that Redis, fix REDIS_URL, or unset it to let npm start find or start one.`);
  }
  if (await pingRedis(defaultRedis)) return { url: defaultRedis, source: 'default' };
  if (hasRedisServer()) {
    const owned = await startPrivateRedis();
    return { url: owned.url, source: 'private', owned };
  }
  throw new Error(
    `no Redis found: nothing answers at ${defaultRedis} and redis-server is not on the PATH. Install it (Debian/Ubuntu: apt-get install -y redis-server; macOS: brew install redis) or set REDIS_URL.`,
  );
}
