import type { JobSetShape, JobsOf } from '@switchboard/contracts';
import { buildConnection } from './build.js';
import { ChatConnection } from './chat.js';
import { JobsConnection } from './jobs.js';
import { hubUrl, validateOptions, type ClientOptions } from './options.js';
import { SystemConnection } from './system.js';

/** The standard hub paths of a Switchboard hub node. */
export const HUB_PATHS = { jobs: '/hubs/jobs', chat: '/hubs/chat', system: '/hubs/system' } as const;

function connect<T extends { start(): Promise<void> }>(
  Kind: new (parts: ReturnType<typeof buildConnection>, options: ClientOptions) => T,
  baseUrl: string,
  defaultPath: string,
  options: ClientOptions,
): T {
  validateOptions(options);
  const client = new Kind(buildConnection(hubUrl(baseUrl, options.path ?? defaultPath), options), options);
  void client.start();
  return client;
}

/**
 * Connects to the jobs hub of the node(s) at `baseUrl` (`''` for the page's own origin, or
 * `http://host:port`). Returns at once, connecting; `await conn.start()` waits until it is up.
 * Type it by your job set with a type-only import (no job code reaches the browser):
 * `import type jobs from './jobs.js'; const conn = connectJobs<typeof jobs>(url);`.
 */
export function connectJobs<S extends JobSetShape = JobSetShape>(baseUrl: string, options: ClientOptions = {}): JobsConnection<JobsOf<S>> {
  return connect(JobsConnection, baseUrl, HUB_PATHS.jobs, options) as JobsConnection<JobsOf<S>>;
}

/** Connects to the chat hub; returns at once, connecting (`await conn.start()` to wait). */
export function connectChat(baseUrl: string, options: ClientOptions = {}): ChatConnection {
  return connect(ChatConnection, baseUrl, HUB_PATHS.chat, options);
}

/** Connects to the system hub; returns at once, connecting (`await conn.start()` to wait). */
export function connectSystem(baseUrl: string, options: ClientOptions = {}): SystemConnection {
  return connect(SystemConnection, baseUrl, HUB_PATHS.system, options);
}
