import { pino, type Logger } from 'pino';

/**
 * Field names whose values never reach a log line, wherever a caller puts them. The libraries
 * log connection ids only; this is the safety net for tokens, secrets and credentials.
 */
export const REDACTED_PATHS = [
  'secret',
  'token',
  'accessToken',
  'access_token',
  'connectionToken',
  'authorization',
  'cookie',
  'password',
  '*.secret',
  '*.token',
  '*.accessToken',
  '*.access_token',
  '*.connectionToken',
  '*.authorization',
  '*.cookie',
  '*.password',
];

/**
 * Scrubs credentials embedded in text (an error message quoting a URL or a header): the
 * `id` (connection token) and `access_token` query parameters, Bearer tokens, and passwords in
 * redis:// URLs.
 */
export function scrubSecrets(line: string): string {
  return line
    .replace(/([?&](?:id|access_token)=)[^&\s"\\]+/gi, '$1[redacted]')
    .replace(/(Bearer\s+)[A-Za-z0-9._~+/=-]+/g, '$1[redacted]')
    .replace(/(rediss?:\/\/)[^@\s"/]*@/g, '$1***@');
}

/**
 * The app's logger: pino, one JSON line per entry on stderr (stdout carries only the
 * ready line, like `listening on <url>`), written synchronously so nothing is lost when the process exits.
 * It satisfies the libraries' pino-compatible `Logger` interface.
 */
export function createLogger(level: 'debug' | 'info' | 'warn' | 'error' | 'silent', bindings: Record<string, unknown>): Logger {
  return pino(
    {
      level,
      base: bindings,
      serializers: { err: pino.stdSerializers.err, error: pino.stdSerializers.err },
      redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
      hooks: { streamWrite: scrubSecrets },
    },
    pino.destination({ dest: 2, sync: true }),
  );
}
