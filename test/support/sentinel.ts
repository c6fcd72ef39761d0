import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freePort } from './redis.js';

const run = promisify(execFile);

export interface PrivateSentinel {
  /** The master group name the sentinels monitor. */
  readonly name: string;
  readonly sentinels: readonly { host: string; port: number }[];
  /** What REDIS_SENTINELS takes: `127.0.0.1:p1,127.0.0.1:p2,127.0.0.1:p3`. */
  readonly sentinelsEnv: string;
  /** The ports the data nodes started on (which one is master changes with failovers). */
  readonly primaryPort: number;
  readonly replicaPort: number;
  /** The master's port as the sentinels report it now (asks each sentinel until one answers). */
  masterPort(): Promise<number>;
  /** SIGKILLs the current master (as the sentinels see it); resolves with its port and the time of the kill. */
  killPrimary(): Promise<{ port: number; at: number }>;
  /** Resolves with the new master's port once a sentinel reports a master other than `oldPort`, which answers PING. */
  waitForFailover(oldPort: number, timeoutMs?: number): Promise<number>;
  /** SIGKILLs every process it started (by its own handles) and removes its temp dir. */
  stop(): Promise<void>;
}

async function cli(port: number, ...args: string[]): Promise<string> {
  const { stdout } = await run('redis-cli', ['-p', String(port), ...args], { timeout: 2000 });
  return stdout.trim();
}

async function until<T>(what: string, timeoutMs: number, check: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await check().catch(() => undefined);
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

function killChild(child: ChildProcess, signal: NodeJS.Signals): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill(signal);
  });
}

/** `count` distinct free ports. */
async function freePorts(count: number): Promise<number[]> {
  const ports: number[] = [];
  while (ports.length < count) {
    const p = await freePort();
    if (!ports.includes(p)) ports.push(p);
  }
  return ports;
}

/**
 * A private Sentinel deployment on loopback: a primary, one replica (`--replicaof`) and
 * `sentinels` sentinels (quorum 2), all on free ports, no persistence. Each server and sentinel
 * has its own folder in one temp dir (sentinels rewrite their configuration file). Resolves once
 * the replica is in sync and every sentinel knows the replica and the other sentinels, so a
 * failover can start `downAfterMs` after the primary dies.
 */
export async function startRedisSentinel(options: { name?: string; sentinels?: number; downAfterMs?: number; failoverTimeoutMs?: number } = {}): Promise<PrivateSentinel> {
  const name = options.name ?? 'sbmaster';
  const count = options.sentinels ?? 3;
  const [primaryPort, replicaPort, ...sentinelPorts] = await freePorts(2 + count);
  const dir = mkdtempSync(join(tmpdir(), 'sb-sentinel-'));
  const children = new Map<number, ChildProcess>();
  const spawnServer = (port: number, args: string[]) => {
    const own = join(dir, String(port));
    mkdirSync(own, { recursive: true });
    const child = spawn('redis-server', [...args, '--port', String(port), '--bind', '127.0.0.1', '--dir', own], { stdio: 'ignore' });
    child.on('error', (err) => console.error(`[sentinel] could not start redis-server on ${port}: ${err.message}`));
    children.set(port, child);
  };
  const stop = async () => {
    await Promise.all([...children.values()].map((c) => killChild(c, 'SIGKILL')));
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    const data = ['--save', '', '--appendonly', 'no'];
    spawnServer(primaryPort!, data);
    spawnServer(replicaPort!, [...data, '--replicaof', '127.0.0.1', String(primaryPort)]);
    for (const port of sentinelPorts) {
      const conf = join(dir, `sentinel-${port}.conf`);
      writeFileSync(
        conf,
        [
          `sentinel monitor ${name} 127.0.0.1 ${primaryPort} 2`,
          // Named up front: found by itself, the replica shows up only at the master's next INFO (10 s).
          `sentinel known-replica ${name} 127.0.0.1 ${replicaPort}`,
          `sentinel down-after-milliseconds ${name} ${options.downAfterMs ?? 1000}`,
          `sentinel failover-timeout ${name} ${options.failoverTimeoutMs ?? 5000}`,
          `sentinel parallel-syncs ${name} 1`,
          '',
        ].join('\n'),
      );
      spawnServer(port, [conf, '--sentinel']);
    }
    await until('the replica to be in sync', 10_000, async () => ((await cli(replicaPort!, 'info', 'replication')).includes('master_link_status:up') ? true : undefined));
    await until('every sentinel to know the replica and the other sentinels', 20_000, async () => {
      for (const port of sentinelPorts) {
        const fields = (await cli(port, 'sentinel', 'master', name)).split('\n');
        const field = (key: string) => Number(fields[fields.indexOf(key) + 1]);
        if (field('num-slaves') < 1 || field('num-other-sentinels') < count - 1) return undefined;
      }
      return true;
    });
  } catch (err) {
    await stop();
    throw err;
  }
  const masterPort = () =>
    until('a sentinel to name the master', 5000, async () => {
      for (const port of sentinelPorts) {
        const reply = await cli(port, 'sentinel', 'get-master-addr-by-name', name).catch(() => '');
        const p = Number(reply.split('\n')[1]);
        if (p) return p;
      }
      return undefined;
    });
  return {
    name,
    sentinels: sentinelPorts.map((port) => ({ host: '127.0.0.1', port })),
    sentinelsEnv: sentinelPorts.map((p) => `127.0.0.1:${p}`).join(','),
    primaryPort: primaryPort!,
    replicaPort: replicaPort!,
    masterPort,
    async killPrimary() {
      const port = await masterPort();
      const child = children.get(port);
      if (!child) throw new Error(`the master is on port ${port}, which this deployment did not start`);
      const at = Date.now();
      await killChild(child, 'SIGKILL');
      return { port, at };
    },
    waitForFailover: (oldPort, timeoutMs = 30_000) =>
      until(`a sentinel to promote a replica in place of port ${oldPort}`, timeoutMs, async () => {
        const p = await masterPort();
        return p !== oldPort && (await cli(p, 'ping')) === 'PONG' ? p : undefined;
      }),
    stop,
  };
}
