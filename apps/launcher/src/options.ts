import { isSentinelTarget, redisTargetFromEnv, type RedisSentinelTarget, type RedisTarget } from '@switchboard/backplane-redis';
/** What `npm start` runs; from the command line and the environment (validated, named in errors). */
export interface LaunchOptions {
  /** Hub node processes sharing one port (`--hubs`, HUBS). @defaultValue 2 */
  readonly hubs: number;
  /** Job worker processes (`--workers`, WORKERS). @defaultValue 2 */
  readonly workers: number;
  /** The one port all hub nodes share (PORT). @defaultValue 3000 */
  readonly port: number;
  /** HOST. @defaultValue 127.0.0.1 */
  readonly host: string;
  /** REDIS_URL when set: it must answer, or start fails. */
  readonly redisUrl: string | undefined;
  /**
   * REDIS_SENTINELS (with REDIS_SENTINEL_NAME) when set: the Sentinel group the processes use
   * instead of any Redis URL; npm start then neither looks for nor starts a Redis. Passwords stay
   * in the environment the processes inherit (REDIS_SENTINEL_PASSWORD, REDIS_PASSWORD).
   */
  readonly sentinels: SentinelSettings | undefined;
  /** Where to look for a Redis when REDIS_URL is unset (SWITCHBOARD_DEFAULT_REDIS). @defaultValue redis://127.0.0.1:6379 */
  readonly defaultRedis: string;
}

export interface SentinelSettings {
  /** The variable as given (`host:port,host:port`), passed on to the processes unchanged. */
  readonly raw: string;
  /** The sentinels, the master group name and the passwords, as every process reads them. */
  readonly target: RedisSentinelTarget;
}

export class UsageError extends Error {
  override readonly name = 'UsageError';
}

export const USAGE = `usage: npm start [-- --hubs N --workers M]
  --hubs N      hub node processes behind one port (default 2, env HUBS)
  --workers M   job worker processes (default 2, env WORKERS)
environment: PORT (3000), HOST (127.0.0.1), REDIS_URL, SWITCHBOARD_DEFAULT_REDIS, HUB_SECRET, REDIS_PREFIX, LOG_LEVEL,
  JOBS_MODULE (your job set; default: the example jobs hash and pipeline), HUBS_MODULE (your own hubs)
Redis: REDIS_SENTINELS=host:port,... with REDIS_SENTINEL_NAME (and REDIS_SENTINEL_PASSWORD, REDIS_PASSWORD) uses that
  Sentinel group; else REDIS_URL; else a Redis at SWITCHBOARD_DEFAULT_REDIS; else a private redis-server it starts`;

function count(raw: string | undefined, name: string, fallback: number, min: number, max = 64): number {
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min || n > max) throw new UsageError(`${name} must be an integer from ${min} to ${max}, got '${raw}'.`);
  return n;
}

export function parseLaunchOptions(argv: readonly string[], env: NodeJS.ProcessEnv): LaunchOptions {
  const flags = new Map<string, string>();
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--help' || a === '-h') throw new UsageError(USAGE);
    const m = /^--(hubs|workers)(?:=(.*))?$/.exec(a);
    if (!m) throw new UsageError(`unknown argument '${a}'\n${USAGE}`);
    const value = m[2] ?? argv[++i];
    if (value === undefined) throw new UsageError(`--${m[1]} needs a number\n${USAGE}`);
    flags.set(m[1]!, value);
  }
  const port = count(env['PORT'], 'PORT', 3000, 0, 65535);
  const { redisUrl, sentinels } = redisFromEnv(env);
  return {
    hubs: count(flags.get('hubs') ?? env['HUBS'], flags.has('hubs') ? '--hubs' : 'HUBS', 2, 1),
    workers: count(flags.get('workers') ?? env['WORKERS'], flags.has('workers') ? '--workers' : 'WORKERS', 2, 0),
    port,
    host: env['HOST'] || '127.0.0.1',
    redisUrl,
    sentinels,
    defaultRedis: env['SWITCHBOARD_DEFAULT_REDIS'] || 'redis://127.0.0.1:6379',
  };
}

/**
 * The Redis variables, read by the same function the hub nodes and workers use
 * (`redisTargetFromEnv`), so a mistake stops npm start with one message instead of every process
 * exiting on it. REDIS_CLUSTER_NODES is not for npm start (main.ts drops it).
 */
function redisFromEnv(env: NodeJS.ProcessEnv): { redisUrl: string | undefined; sentinels: SentinelSettings | undefined } {
  let target: RedisTarget | undefined;
  try {
    target = redisTargetFromEnv({ ...env, REDIS_CLUSTER_NODES: '' });
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  if (isSentinelTarget(target)) return { redisUrl: undefined, sentinels: { raw: env['REDIS_SENTINELS']!.trim(), target } };
  return { redisUrl: typeof target === 'string' ? target : undefined, sentinels: undefined };
}
