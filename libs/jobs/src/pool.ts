import { availableParallelism } from 'node:os';
import { MessageChannel } from 'node:worker_threads';
import { Piscina } from 'piscina';
import { isTaskDefinition, type TaskDefinition } from './define-task.js';
import type { TaskMessage, TaskRequest } from './tasks/protocol.js';
import { SwitchboardError } from '@switchboard/protocol';

export interface TaskPoolOptions {
  /** Most threads in the pool. @defaultValue os.availableParallelism() */
  size?: number;
  /** A thread idle this long ends. @defaultValue 30000 */
  idleTimeoutMs?: number;
}

export interface RunOptions {
  signal?: AbortSignal;
  /** Called on the main thread with each progress report (0-100) of the task. */
  onProgress?: (percent: number) => void;
}

/**
 * A piscina pool that runs task modules (`defineTask`): `run(task, input)` resolves with the
 * task's output. No thread starts before the first task: workers whose jobs never run a task
 * pay nothing for the pool.
 */
export class TaskPool {
  #piscina: Piscina | undefined;
  #inFlight = 0;
  #destroyed = false;
  readonly size: number;
  readonly #idleTimeout: number;

  constructor(options: TaskPoolOptions = {}) {
    this.size = options.size ?? availableParallelism();
    this.#idleTimeout = options.idleTimeoutMs ?? 30_000;
  }

  #pool(): Piscina {
    if (this.#destroyed) throw new SwitchboardError('SB_JOB_CANCELLED', 'The task pool is closed (the worker is shutting down).');
    // Always the compiled runner: piscina threads do not run TypeScript.
    // recordTiming off: piscina's run and wait time histograms (a record per task) are read by nothing here.
    this.#piscina ??= new Piscina({ filename: new URL('./tasks/runner.js', import.meta.url).href, minThreads: 0, maxThreads: this.size, idleTimeout: this.#idleTimeout, recordTiming: false });
    return this.#piscina;
  }

  async run<I, O>(task: TaskDefinition<I, O>, input: I, options: RunOptions = {}): Promise<O> {
    if (!isTaskDefinition(task)) {
      throw new SwitchboardError('SB_CONFIG_INVALID', 'run(task, input) needs a task made with defineTask(new URL(\'./my.task.js\', import.meta.url)) from @switchboard/jobs.');
    }
    const pool = this.#pool();
    const signal = options.signal ? { signal: options.signal } : {};
    this.#inFlight++;
    try {
      // Without a listener there is no progress channel: the task's `progress` calls are dropped in
      // the thread. A MessageChannel per task (made, transferred, drained, closed, with a timer)
      // was about a fifth of a worker's CPU per tiny task (bench `thread` job, issue 19).
      if (!options.onProgress) return (await pool.run({ moduleUrl: task.moduleUrl, input } satisfies TaskRequest, signal)) as O;
      return await this.#runWithProgress<O>(pool, task.moduleUrl, input, options.onProgress, signal);
    } finally {
      this.#inFlight--;
    }
  }

  /** A task whose progress reports reach `onProgress`, on a port of its own. */
  async #runWithProgress<O>(pool: Piscina, moduleUrl: string, input: unknown, onProgress: (percent: number) => void, signal: { signal?: AbortSignal }): Promise<O> {
    const { port1, port2 } = new MessageChannel();
    // The result comes on piscina's channel, progress on ours: the thread posts `done` on ours
    // after the task returned, so waiting for it delivers every progress report posted before.
    let markDone!: () => void;
    const drained = new Promise<void>((resolve) => (markDone = resolve));
    port1.on('message', (m: TaskMessage) => {
      if (m.type === 'progress' && typeof m.percent === 'number') onProgress(m.percent);
      else if (m.type === 'done') markDone();
    });
    const request: TaskRequest = { moduleUrl, input, port: port2 };
    try {
      const output = (await pool.run(request, { transferList: [port2], ...signal })) as O;
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([drained, new Promise((r) => (timer = setTimeout(r, 200)))]);
      clearTimeout(timer);
      return output;
    } finally {
      port1.close();
    }
  }

  /** Tasks submitted and not yet settled (running or queued for a thread). */
  get running(): number {
    return this.#inFlight;
  }

  /** Threads started now, tasks running in them, and tasks waiting for a thread. */
  stats(): { threads: number; busy: number; queued: number } {
    const piscina = this.#piscina;
    if (!piscina) return { threads: 0, busy: 0, queued: 0 };
    const queued = piscina.queueSize;
    return { threads: piscina.threads.length, busy: Math.max(0, Math.min(this.size, this.#inFlight - queued)), queued };
  }

  async destroy(): Promise<void> {
    this.#destroyed = true;
    await this.#piscina?.destroy();
  }
}
