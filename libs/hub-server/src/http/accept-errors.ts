import type { Server } from 'node:net';
import type { Logger } from '../telemetry/logger.js';

export interface AcceptErrorLogOptions {
  /** At most one log line per this many milliseconds; the errors in between are counted in the next line. @defaultValue 10000 */
  readonly intervalMs?: number;
  /** The clock (tests). @defaultValue Date.now */
  readonly now?: () => number;
}

/** What the operator can do about an accept error, by code. */
const HINTS: Readonly<Record<string, string>> = {
  EMFILE: 'this process is out of file descriptors (one per connection): raise its open files limit (ulimit -n) or lower maxConnections',
  ENFILE: 'the system is out of file descriptors (fs.file-max): raise it, or move connections to other nodes',
  ENOBUFS: 'the kernel is out of socket buffer memory',
  ENOMEM: 'the kernel is out of memory',
};

/**
 * Keeps a listening server serving through the errors Node emits on it when accepting a
 * connection fails (ENFILE, ENOBUFS, ENOMEM, EMFILE when libuv cannot take its spare descriptor
 * back): without an 'error' listener such an error ends the process. Each is logged at warn, at
 * most one line per `intervalMs`; the ones in between are counted (`suppressed`) in the next
 * line, written when the interval is over. The connection that failed is lost; the server goes
 * on accepting.
 *
 * Errors while the server is not listening (listen's EADDRINUSE, EACCES) belong to the app: when
 * no other 'error' listener is there, this one throws them, as if it were not registered.
 * Returns a function that removes the listener.
 */
export function logAcceptErrors(server: Server, logger: Logger, options: AcceptErrorLogOptions = {}): () => void {
  const intervalMs = options.intervalMs ?? 10_000;
  const now = options.now ?? Date.now;
  let lastLine = -Infinity;
  let suppressed = 0;
  let latest: NodeJS.ErrnoException | undefined;
  let flushTimer: NodeJS.Timeout | undefined;

  /** One line: `suppressed` is the number of errors since the previous line it stands for (0: this one alone). */
  const write = (err: NodeJS.ErrnoException, count: number): void => {
    lastLine = now();
    const hint = err.code ? HINTS[err.code] : undefined;
    logger.warn(
      { code: err.code, syscall: err.syscall, error: err.message, suppressed: count, ...(hint ? { hint } : {}) },
      count
        ? `accepting a connection failed ${count} more times since the last line (the latest: ${err.code ?? err.message}); the server goes on serving`
        : `accepting a connection failed (${err.code ?? err.message}); the server goes on serving`,
    );
  };
  const flush = (): void => {
    flushTimer = undefined;
    if (!suppressed || !latest) return;
    const count = suppressed;
    suppressed = 0;
    write(latest, count);
  };
  const listener = (err: NodeJS.ErrnoException): void => {
    if (!server.listening) {
      if (server.listenerCount('error') === 1) throw err;
      return;
    }
    latest = err;
    if (flushTimer === undefined && now() - lastLine >= intervalMs) return write(err, 0);
    suppressed++;
    flushTimer ??= setTimeout(flush, Math.max(0, lastLine + intervalMs - now())).unref();
  };
  server.on('error', listener);
  return () => {
    server.off('error', listener);
    if (flushTimer) clearTimeout(flushTimer);
    flushTimer = undefined;
  };
}
