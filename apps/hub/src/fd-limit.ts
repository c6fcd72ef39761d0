import { readFileSync } from 'node:fs';

/**
 * The connection cap a hub node derives from its open files limit (RLIMIT_NOFILE). Every
 * connection holds one file descriptor; a process out of them cannot accept, and libuv then
 * accepts and closes every new connection at once, `/healthz` and `/metrics` included, so a
 * liveness probe would restart a node that is only full. A cap below the limit makes the node
 * refuse new clients with 503 SB_CONNECTION_LIMIT instead, while its probes keep answering.
 * See docs/scaling.md#file-descriptors.
 */

/** The process's open files limit; `undefined` fields are unlimited. */
export interface OpenFilesLimit {
  readonly soft: number | undefined;
  readonly hard: number | undefined;
}

/** Descriptors kept out of the cap at most: Redis, probes, /metrics, static files, refusals in flight. */
export const FD_RESERVE = 256;

/** The "Max open files" row of a /proc/<pid>/limits text; undefined when there is none. */
export function parseOpenFilesLimit(text: string): OpenFilesLimit | undefined {
  const m = /^Max open files\s+(\d+|unlimited)\s+(\d+|unlimited)(?:\s+\S+)?\s*$/m.exec(text);
  if (!m) return undefined;
  const value = (v: string) => (v === 'unlimited' ? undefined : Number(v));
  return { soft: value(m[1]!), hard: value(m[2]!) };
}

/** This process's limit, from /proc/self/limits on Linux; undefined elsewhere or when unreadable. */
export function readOpenFilesLimit(platform: NodeJS.Platform = process.platform, read: () => string = () => readFileSync('/proc/self/limits', 'utf8')): OpenFilesLimit | undefined {
  if (platform !== 'linux') return undefined;
  try {
    return parseOpenFilesLimit(read());
  } catch {
    return undefined;
  }
}

/** Descriptors kept for other uses under a soft limit of `soft`: FD_RESERVE, or half of a smaller limit. */
export function fdReserve(soft: number): number {
  return Math.min(FD_RESERVE, Math.floor(soft / 2));
}

/** The most connections a node with this soft limit can hold and still answer its probes. */
export function capForLimit(soft: number): number {
  return Math.max(1, soft - fdReserve(soft));
}

export interface ConnectionCap {
  /** The cap to give the hub server; undefined = no limit. */
  readonly maxConnections: number | undefined;
  /** The startup log line about it, if any. */
  readonly log?: { readonly level: 'info' | 'warn'; readonly fields: Record<string, unknown>; readonly msg: string };
}

/**
 * The node's connection cap: MAX_CONNECTIONS when set (0 = no limit), else, with a known soft
 * limit, `capForLimit(soft)`. Says so at info when it derived the cap, and warns when the
 * configured value (or no limit) is above what the limit allows. No known limit (not Linux,
 * /proc unreadable, unlimited): MAX_CONNECTIONS as set, no limit when unset.
 */
export function connectionCap(config: { readonly maxConnections: number | undefined; readonly maxConnectionsSet: boolean }, limit: OpenFilesLimit | undefined): ConnectionCap {
  const soft = limit?.soft;
  if (soft === undefined) return { maxConnections: config.maxConnections };
  const cap = capForLimit(soft);
  const fields = { openFilesLimit: soft, hardLimit: limit!.hard ?? 'unlimited', reserve: fdReserve(soft) };
  if (!config.maxConnectionsSet) {
    return {
      maxConnections: cap,
      log: {
        level: 'info',
        fields: { maxConnections: cap, ...fields },
        msg: `MAX_CONNECTIONS is not set: holding at most ${cap} connections, the open files limit (ulimit -n, ${soft}) minus ${fields.reserve} descriptors kept for Redis, probes, /metrics and files; past that, new clients get 503 SB_CONNECTION_LIMIT. Raise ulimit -n to hold more, or set MAX_CONNECTIONS`,
      },
    };
  }
  const configured = config.maxConnections;
  if (configured !== undefined && configured <= cap) return { maxConnections: configured };
  const consequence = 'the node will run out of file descriptors first, and then resets every new connection, /healthz and /metrics included, instead of answering 503';
  let msg: string;
  if (configured === undefined) {
    msg = `MAX_CONNECTIONS=0 (no limit), but the open files limit (ulimit -n) is ${soft}: ${consequence}. Unset MAX_CONNECTIONS (the default caps at ${cap}) or set it to ${cap} or less, or raise ulimit -n above what the node will ever hold`;
  } else {
    const needed = configured + FD_RESERVE;
    const hard = limit!.hard !== undefined && needed > limit!.hard ? ` (above the hard limit ${limit!.hard}: raise that first, e.g. LimitNOFILE in systemd or --ulimit nofile in Docker)` : '';
    msg = `MAX_CONNECTIONS=${configured} is above what the open files limit (ulimit -n, ${soft}) allows: ${consequence}. Raise ulimit -n to at least ${needed}${hard}, or lower MAX_CONNECTIONS to ${cap} or less`;
  }
  return { maxConnections: configured, log: { level: 'warn', fields: { maxConnections: configured ?? 0, suggestedMaxConnections: cap, ...fields }, msg } };
}
