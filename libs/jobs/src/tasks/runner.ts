import type { TaskContext, TaskFunction } from '../define-task.js';
import type { TaskMessage, TaskRequest } from './protocol.js';

/** Task modules already imported in this thread (a thread runs many tasks). */
const loaded = new Map<string, Promise<TaskFunction>>();

function load(moduleUrl: string): Promise<TaskFunction> {
  let fn = loaded.get(moduleUrl);
  if (!fn) {
    fn = import(moduleUrl).then(
      (mod: { default?: unknown }) => {
        if (typeof mod.default !== 'function') {
          throw new Error(`Task module ${moduleUrl} has no default export function: export default async (input, { progress, signal }) => output.`);
        }
        return mod.default as TaskFunction;
      },
      (err: Error) => {
        throw new Error(`Task module ${moduleUrl} could not be loaded: ${err.message}`);
      },
    );
    // A module that failed to load is tried again next time (it may have been deployed meanwhile).
    fn.catch(() => loaded.delete(moduleUrl));
    loaded.set(moduleUrl, fn);
  }
  return fn;
}

/**
 * The piscina thread entry: imports the task's module (once per thread) and runs its default
 * export. Cancellation is piscina's: aborting a running task terminates this thread, which frees
 * it at once even in the middle of a tight loop.
 */
export default async function runTask(request: TaskRequest): Promise<unknown> {
  const { port } = request;
  const abort = new AbortController();
  const ctx: TaskContext = {
    // Without a port nobody listens (the run has no onProgress): reports are dropped here.
    progress: port
      ? (percent: number) => {
          const message: TaskMessage = { type: 'progress', percent };
          port.postMessage(message);
        }
      : () => {},
    signal: abort.signal,
  };
  try {
    const fn = await load(request.moduleUrl);
    return await fn(request.input, ctx);
  } finally {
    if (port) {
      // After every progress report: the pool waits for it before it drops the port.
      const done: TaskMessage = { type: 'done' };
      port.postMessage(done);
      port.close();
    }
  }
}
