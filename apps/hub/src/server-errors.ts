import type { Server } from 'node:net';
import { logAcceptErrors, type AcceptErrorLogOptions, type Logger } from '@switchboard/hub-server';

/** What to do about a failed `listen`, by code. */
const LISTEN_ADVICE: Readonly<Record<string, (port: number, host: string) => string>> = {
  EADDRINUSE: (port) => `port ${port} is already in use: stop the process that holds it (\`ss -ltnp 'sport = :${port}'\` shows it) or set PORT to a free port`,
  EACCES: (port) => `no permission to listen on port ${port}: ports below 1024 need privileges (CAP_NET_BIND_SERVICE); set PORT to 1024 or above`,
  EADDRNOTAVAIL: (_port, host) => `HOST ${host} is not an address of this machine: set HOST to one of its addresses, or 0.0.0.0 for all`,
};

export interface ServerErrorOptions extends AcceptErrorLogOptions {
  readonly logger: Logger;
  /** PORT and HOST, for the message of a failed listen. */
  readonly port: number;
  readonly host: string;
  /** Ends the process (tests pass a stub). @defaultValue process.exit */
  readonly exit?: (code: number) => void;
}

/**
 * The hub node's 'error' listeners on its HTTP server. Before it listens, an error is a failed
 * `listen` (EADDRINUSE, EACCES, ...): one JSON error line naming the port and what to do, and
 * exit code 1, as an unexpected stop (no stack trace). Once it listens, errors are failed accepts
 * (ENFILE, ENOBUFS, ENOMEM, EMFILE when libuv cannot take its spare descriptor back): logged at
 * warn, rate-limited (`logAcceptErrors`), and the node goes on serving. Without these listeners
 * either would end the process with an unhandled 'error' event.
 */
export function watchServerErrors(server: Server, options: ServerErrorOptions): void {
  const { logger, port, host, exit = (code: number) => process.exit(code) } = options;
  logAcceptErrors(server, logger, options);
  server.on('error', (err: NodeJS.ErrnoException) => {
    if (server.listening) return; // logAcceptErrors's
    const advice = (err.code && LISTEN_ADVICE[err.code]?.(port, host)) || `listen failed: ${err.message}`;
    logger.error({ code: err.code, syscall: err.syscall, port, host, error: err.message }, `cannot listen on ${host}:${port}: ${advice}`);
    exit(1);
  });
}
