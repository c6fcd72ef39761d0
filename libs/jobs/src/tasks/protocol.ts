import type { MessagePort } from 'node:worker_threads';

/** What the pool sends a thread: the task module to run, its input, and the port for progress (none when nobody listens). */
export interface TaskRequest {
  readonly moduleUrl: string;
  readonly input: unknown;
  readonly port?: MessagePort;
}

/** Messages a thread posts on its progress port. */
export type TaskMessage = { type: 'progress'; percent: number } | { type: 'done' };
