import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** A free TCP port on 127.0.0.1 (bind to 0, read, release). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

export interface PrivateRedis {
  readonly port: number;
  readonly url: string;
  /** Stops the server: SIGKILL (an abrupt outage, the default) or SIGTERM (a clean stop that writes its append-only file). */
  kill(signal?: NodeJS.Signals): Promise<void>;
  /**
   * Starts it again on the same port (after SIGKILL if it runs). With `appendonly` it reloads its
   * append-only file; `{ empty: true }` deletes its files first (Redis restarted without its data).
   */
  restart(options?: { empty?: boolean; signal?: NodeJS.Signals }): Promise<void>;
  /** SIGSTOP: the server keeps its connections but answers nothing (a frozen or overloaded Redis). */
  freeze(): void;
  /** SIGCONT after `freeze`. */
  thaw(): void;
  stop(): Promise<void>;
}

async function waitForPing(port: number, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const { stdout } = await run('redis-cli', ['-p', String(port), 'ping']);
      if (stdout.trim() === 'PONG') return;
    } catch {
      // not up yet
    }
    if (Date.now() > deadline) throw new Error(`redis-server on port ${port} did not answer PING within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

function spawnRedis(port: number, dir: string, extra: string[] = []): ChildProcess {
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir, ...extra], { stdio: 'ignore' });
  child.on('error', (err) => {
    throw new Error(`could not start redis-server (is it installed? apt-get install -y redis-server): ${err.message}`);
  });
  return child;
}

function killChild(child: ChildProcess | undefined, signal: NodeJS.Signals): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill(signal);
  });
}

/**
 * A private standalone redis-server on a free port, owned by the test. No persistence, unless
 * `appendonly` (AOF, `appendfsync everysec` as docs/scaling.md recommends).
 */
export async function startRedis(options: { appendonly?: boolean } = {}): Promise<PrivateRedis> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'sb-redis-'));
  const extra = options.appendonly ? ['--appendonly', 'yes', '--appendfsync', 'everysec'] : [];
  let child: ChildProcess | undefined = spawnRedis(port, dir, extra);
  await waitForPing(port);
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    kill: async (signal: NodeJS.Signals = 'SIGKILL') => {
      await killChild(child, signal);
      child = undefined;
    },
    restart: async ({ empty = false, signal = 'SIGKILL' } = {}) => {
      if (child) await killChild(child, signal);
      if (empty) {
        rmSync(dir, { recursive: true, force: true });
        mkdirSync(dir, { recursive: true });
      }
      child = spawnRedis(port, dir, extra);
      await waitForPing(port);
    },
    freeze: () => void child?.kill('SIGSTOP'),
    thaw: () => void child?.kill('SIGCONT'),
    stop: async () => {
      child?.kill('SIGCONT'); // a frozen server would not act on SIGTERM
      await killChild(child, 'SIGTERM');
      child = undefined;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export interface PrivateRedisCluster {
  readonly ports: number[];
  /** `127.0.0.1:p1,127.0.0.1:p2,...` as REDIS_CLUSTER_NODES takes it. */
  readonly nodes: string;
  stop(): Promise<void>;
}

/** A private 3-master Redis Cluster (no replicas) on free ports; ready when cluster_state is ok. */
export async function startRedisCluster(masters = 3): Promise<PrivateRedisCluster> {
  const ports: number[] = [];
  while (ports.length < masters) {
    const p = await freePort();
    if (!ports.includes(p) && !ports.includes(p - 10000) && p + 10000 < 65536) ports.push(p);
  }
  const dir = mkdtempSync(join(tmpdir(), 'sb-redis-cluster-'));
  const children = ports.map((p) =>
    spawnRedis(p, dir, ['--cluster-enabled', 'yes', '--cluster-config-file', `nodes-${p}.conf`, '--cluster-node-timeout', '2000']),
  );
  const stop = async () => {
    await Promise.all(children.map((c) => killChild(c, 'SIGKILL')));
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await Promise.all(ports.map((p) => waitForPing(p)));
    await run('redis-cli', ['--cluster', 'create', ...ports.map((p) => `127.0.0.1:${p}`), '--cluster-replicas', '0', '--cluster-yes']);
    const deadline = Date.now() + 15_000;
    for (;;) {
      const states = await Promise.all(ports.map((p) => run('redis-cli', ['-p', String(p), 'cluster', 'info']).then((r) => r.stdout)));
      if (states.every((s) => s.includes('cluster_state:ok'))) break;
      if (Date.now() > deadline) throw new Error('the Redis Cluster did not reach cluster_state:ok within 15 s');
      await new Promise((r) => setTimeout(r, 100));
    }
  } catch (err) {
    await stop();
    throw err;
  }
  return { ports, nodes: ports.map((p) => `127.0.0.1:${p}`).join(','), stop };
}

/** A unique channel/key prefix for one test. */
export function uniquePrefix(label = 'test'): string {
  return `sbtest:${label}:${process.pid}:${Date.now().toString(36)}:${Math.random().toString(36).slice(2, 8)}:`;
}
