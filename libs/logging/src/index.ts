export { createLogger, scrubSecrets, REDACTED_PATHS } from './logger.js';
