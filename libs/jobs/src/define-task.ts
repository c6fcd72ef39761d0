import { isAbsolute } from 'node:path';
import { pathToFileURL } from 'node:url';
import { SwitchboardError } from '@switchboard/protocol';

/** What a task's function gets besides its input, in its thread. */
export interface TaskContext {
  /** Reports progress (0-100) to the job on the main thread (`ctx.run`'s `onProgress`). */
  progress(percent: number): void;
  /**
   * Aborted when the task is cancelled. Cancelling also terminates the thread (that is what frees
   * it at once, even mid-loop), so a task needs the signal only to stop I/O of its own early.
   */
  readonly signal: AbortSignal;
}

/** The default export of a task module: runs in a piscina thread; input and output are structured-cloned. */
export type TaskFunction<I = any, O = unknown> = (input: I, ctx: TaskContext) => O | Promise<O>;

/** Marks a task definition at run time (a string, so a second copy of this package still recognises it). */
export const TASK_BRAND = 'switchboard.task/1';

/** A CPU task: an ES module run in the worker's thread pool by `ctx.run(task, input)`. */
export interface TaskDefinition<I = any, O = unknown> {
  readonly '~switchboard': typeof TASK_BRAND;
  /** The module's `file:` URL (its default export is the task function). */
  readonly moduleUrl: string;
  /** Type-only: never set at run time. */
  readonly '~io'?: { readonly input: I; readonly output: O };
}

/** The input type of a task definition. */
export type TaskInput<T> = T extends TaskDefinition<infer I, unknown> ? I : never;
/** The output type of a task definition. */
export type TaskOutput<T> = T extends TaskDefinition<any, infer O> ? O : never;

/**
 * Names a task module: `defineTask<typeof render>(new URL('./render.task.js', import.meta.url))`,
 * where `import type render from './render.task.js'` gives input and output types without loading
 * the module on the main thread. The module is imported in a thread the first time the task runs;
 * no thread starts before that. `module` is a `file:` URL (string or URL) or an absolute path.
 */
export function defineTask<F extends TaskFunction>(module: string | URL): TaskDefinition<Parameters<F>[0], Awaited<ReturnType<F>>> {
  return Object.freeze({ '~switchboard': TASK_BRAND, moduleUrl: taskModuleUrl(module) });
}

function taskModuleUrl(module: unknown): string {
  if (module instanceof URL || (typeof module === 'object' && module !== null && typeof (module as URL).href === 'string')) {
    module = (module as URL).href;
  }
  if (typeof module !== 'string' || !module) {
    throw new SwitchboardError('SB_CONFIG_INVALID', `defineTask needs the task module's file URL, e.g. defineTask(new URL('./render.task.js', import.meta.url)); got ${describe(module)}.`);
  }
  if (module.startsWith('file:')) return module;
  if (isAbsolute(module)) return pathToFileURL(module).href;
  throw new SwitchboardError(
    'SB_CONFIG_INVALID',
    `defineTask needs a file: URL or an absolute path, got '${module}': a relative path would depend on the process's working directory. Use new URL('${module}', import.meta.url).`,
  );
}

/** True for a task definition from any copy of this package. */
export function isTaskDefinition(value: unknown): value is TaskDefinition {
  return typeof value === 'object' && value !== null && (value as TaskDefinition)['~switchboard'] === TASK_BRAND && typeof (value as TaskDefinition).moduleUrl === 'string';
}

export function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'function') return `a function${value.name ? ` (${value.name})` : ''}`;
  if (typeof value === 'object') return 'an object';
  if (typeof value === 'string') return JSON.stringify(value);
  return `${typeof value} ${String(value)}`;
}
