import { availableParallelism } from 'node:os';
import { MessageChannel } from 'node:worker_threads';
import { Piscina } from 'piscina';
import type { TaskKind, TaskMessage, TaskRequest, TaskTypes } from './tasks/types.js';

export interface TaskPoolOptions {
  /** Threads in the pool. @defaultValue os.availableParallelism() */
  size?: number;
}

export interface RunOptions {
  signal?: AbortSignal;
  /** Called on the main thread with each progress report (0-100) of the task. */
  onProgress?: (percent: number) => void;
}

/** A typed piscina pool: `run('hash', { seed, rounds })` resolves with that task's output type. */
export class TaskPool {
  private readonly piscina: Piscina;
  private inFlight = 0;
  readonly size: number;

  constructor(options: TaskPoolOptions = {}) {
    this.size = options.size ?? availableParallelism();
    // Always the compiled thread file: piscina threads do not run TypeScript.
    const filename = new URL('./tasks/thread.js', import.meta.url).href;
    this.piscina = new Piscina({ filename, minThreads: Math.min(1, this.size), maxThreads: this.size, idleTimeout: 30_000 });
  }

  async run<K extends TaskKind>(kind: K, input: TaskTypes[K]['input'], options: RunOptions = {}): Promise<TaskTypes[K]['output']> {
    const { port1, port2 } = new MessageChannel();
    if (options.onProgress) {
      const onProgress = options.onProgress;
      port1.on('message', (m: TaskMessage) => {
        if (m.type === 'progress') onProgress(m.percent);
      });
    }
    const request = { kind, input, port: port2 } as TaskRequest;
    this.inFlight++;
    try {
      return (await this.piscina.run(request, { transferList: [port2], ...(options.signal ? { signal: options.signal } : {}) })) as TaskTypes[K]['output'];
    } finally {
      this.inFlight--;
      port1.close();
    }
  }

  /** Tasks submitted and not yet settled (running or queued for a thread). */
  get running(): number {
    return this.inFlight;
  }

  /** Threads started now, tasks running in them, and tasks waiting for a thread. */
  stats(): { threads: number; busy: number; queued: number } {
    const queued = this.piscina.queueSize;
    return { threads: this.piscina.threads.length, busy: Math.max(0, Math.min(this.size, this.inFlight - queued)), queued };
  }

  destroy(): Promise<void> {
    return this.piscina.destroy();
  }
}
