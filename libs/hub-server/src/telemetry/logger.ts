/**
 * The logging seam: a subset of pino's API so a pino logger can be passed as is. Log lines never
 * carry connection tokens or secrets; callers log connection ids only.
 */
export interface Logger {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

const LEVELS = { debug: 20, info: 30, warn: 40, error: 50, silent: 100 } as const;
export type LogLevel = keyof typeof LEVELS;

/** One JSON line per entry on stderr, pino-compatible fields (`level`, `time`, `msg`). */
export function jsonLogger(level: LogLevel = 'info', bindings: object = {}): Logger {
  const min = LEVELS[level];
  const write = (lvl: Exclude<LogLevel, 'silent'>, obj: object, msg?: string): void => {
    if (LEVELS[lvl] < min) return;
    const entry = { level: LEVELS[lvl], time: Date.now(), ...bindings, ...serializeErrors(obj), ...(msg ? { msg } : {}) };
    process.stderr.write(`${JSON.stringify(entry)}\n`);
  };
  return {
    debug: (o, m) => write('debug', o, m),
    info: (o, m) => write('info', o, m),
    warn: (o, m) => write('warn', o, m),
    error: (o, m) => write('error', o, m),
  };
}

function serializeErrors(obj: object): object {
  const out: Record<string, unknown> = { ...obj };
  for (const [k, v] of Object.entries(out)) {
    if (v instanceof Error) out[k] = { type: v.name, message: v.message, ...('code' in v ? { code: v.code } : {}), stack: v.stack };
  }
  return out;
}

export const silentLogger: Logger = { debug() {}, info() {}, warn() {}, error() {} };
