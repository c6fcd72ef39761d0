import { randomBytes } from 'node:crypto';

/*
 * Reading the environment, for the apps' `config.ts` files (each app reads the environment only
 * there): the error they throw, the integer, boolean, NODE_ID and LOG_LEVEL rules, and the
 * bootstrap that turns a ConfigError into a one-line message and exit code 2. Messages name the
 * variable and say what is accepted.
 */

/** A configuration value is missing or invalid; the message names the variable. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

export type LogLevel = 'debug' | 'info' | 'warn' | 'error' | 'silent';
export const LOG_LEVELS: readonly LogLevel[] = ['debug', 'info', 'warn', 'error', 'silent'];

/** An integer variable in [min, max]; `fallback` when unset or empty. */
export function intFromEnv(env: NodeJS.ProcessEnv, name: string, fallback: number, min: number, max = Number.MAX_SAFE_INTEGER): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!/^\s*-?\d+\s*$/.test(raw) || !Number.isSafeInteger(n) || n < min || n > max) {
    throw new ConfigError(`${name} must be an integer from ${min} to ${max}, got '${raw}'.`);
  }
  return n;
}

/** A boolean variable: `1`/`true` or `0`/`false` (any case); `fallback` when unset or empty. */
export function boolFromEnv(env: NodeJS.ProcessEnv, name: string, fallback: boolean): boolean {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const v = raw.trim().toLowerCase();
  if (v === '1' || v === 'true') return true;
  if (v === '0' || v === 'false') return false;
  throw new ConfigError(`${name} must be 1, true, 0 or false, got '${raw}'.`);
}

/** NODE_ID: letters, digits, '.', '_', '-' (it becomes a metrics label and a Redis hash field); `<role>-<pid>-<random>` when unset. */
export function nodeIdFromEnv(env: NodeJS.ProcessEnv, role: string): string {
  const raw = env['NODE_ID'];
  if (raw === undefined || raw === '') return `${role}-${process.pid}-${randomBytes(3).toString('hex')}`;
  if (!/^[A-Za-z0-9._-]{1,64}$/.test(raw)) throw new ConfigError(`NODE_ID must be 1-64 characters from A-Z a-z 0-9 . _ -, got '${raw}'.`);
  return raw;
}

/** LOG_LEVEL: one of LOG_LEVELS. @defaultValue info */
export function logLevelFromEnv(env: NodeJS.ProcessEnv): LogLevel {
  const level = (env['LOG_LEVEL'] || 'info') as LogLevel;
  if (!LOG_LEVELS.includes(level)) throw new ConfigError(`LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')}; got '${env['LOG_LEVEL']}'.`);
  return level;
}

/**
 * Runs an app's `loadConfig`: a ConfigError is printed as `<app>: configuration error: <message>`
 * and the process exits with 2 (a configuration error, not a crash); other errors are thrown.
 */
export function loadConfigOrExit<T>(app: string, load: () => T): T {
  try {
    return load();
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(`${app}: configuration error: ${err.message}`);
      process.exit(2);
    }
    throw err;
  }
}
