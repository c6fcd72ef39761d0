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
  /** Where to look for a Redis when REDIS_URL is unset (SWITCHBOARD_DEFAULT_REDIS). @defaultValue redis://127.0.0.1:6379 */
  readonly defaultRedis: string;
}

export class UsageError extends Error {
  override readonly name = 'UsageError';
}

export const USAGE = `usage: npm start [-- --hubs N --workers M]
  --hubs N      hub node processes behind one port (default 2, env HUBS)
  --workers M   job worker processes (default 2, env WORKERS)
environment: PORT (3000), HOST (127.0.0.1), REDIS_URL, SWITCHBOARD_DEFAULT_REDIS, HUB_SECRET, REDIS_PREFIX, LOG_LEVEL,
  JOBS_MODULE (your job set; default: the example jobs hash and pipeline), HUBS_MODULE (your own hubs)`;

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
  const redisUrl = env['REDIS_URL'] || undefined;
  if (redisUrl && !/^rediss?:\/\//.test(redisUrl)) throw new UsageError(`REDIS_URL must start with redis:// or rediss://, got '${redisUrl}'.`);
  return {
    hubs: count(flags.get('hubs') ?? env['HUBS'], flags.has('hubs') ? '--hubs' : 'HUBS', 2, 1),
    workers: count(flags.get('workers') ?? env['WORKERS'], flags.has('workers') ? '--workers' : 'WORKERS', 2, 0),
    port,
    host: env['HOST'] || '127.0.0.1',
    redisUrl,
    defaultRedis: env['SWITCHBOARD_DEFAULT_REDIS'] || 'redis://127.0.0.1:6379',
  };
}
