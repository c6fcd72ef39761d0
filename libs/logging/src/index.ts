export { createLogger, scrubSecrets, REDACTED_PATHS } from './logger.js';
export { ConfigError, LOG_LEVELS, boolFromEnv, intFromEnv, loadConfigOrExit, logLevelFromEnv, nodeIdFromEnv, type LogLevel } from './env.js';
export { serveMetrics, type MetricsRegistry } from './metrics-route.js';
