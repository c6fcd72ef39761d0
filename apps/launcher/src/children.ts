import cluster, { type Worker as ClusterWorker } from 'node:cluster';
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';

/** A supervised process: a hub node (cluster worker) or a job worker (child process). */
export interface Supervised {
  readonly label: string;
  pid(): number | undefined;
  /** Resolves when the process printed its ready line. */
  readonly ready: Promise<void>;
  stop(signal: NodeJS.Signals): Promise<void>;
}

interface Spec {
  label: string;
  env: Record<string, string>;
  readyPattern: RegExp;
  /** Called when the process exits while not stopping (the supervisor restarts it). */
  onUnexpectedExit: (code: number | null, signal: string | null) => void;
}

/** Forwards a child's output line by line with its label; ready lines are swallowed. */
function pipeLines(stream: Readable | null, label: string, readyPattern: RegExp, onReady: () => void, out: NodeJS.WriteStream): void {
  if (!stream) return;
  createInterface({ input: stream }).on('line', (line) => {
    if (readyPattern.test(line)) return onReady();
    out.write(`[${label}] ${line}\n`);
  });
}

function exitPromise(proc: ChildProcess | ClusterWorker['process']): Promise<void> {
  if (proc.exitCode !== null || proc.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => proc.once('exit', () => resolve()));
}

async function stopProcess(proc: ChildProcess | undefined, signal: NodeJS.Signals, graceMs: number): Promise<void> {
  if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
  const exited = exitPromise(proc);
  proc.kill(signal);
  const timer = setTimeout(() => proc.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(timer);
}

/**
 * Forks a hub node as a cluster worker: every hub node calls listen() on the same port and the
 * launcher (cluster primary) hands each new TCP connection to the next node in turn. No sticky
 * sessions are needed because connection tokens are valid on every node.
 */
export function forkHub(spec: Spec, script: string, graceMs: number): Supervised {
  cluster.setupPrimary({ exec: script, silent: true });
  const worker = cluster.fork(spec.env);
  let stopping = false;
  let markReady!: () => void;
  const ready = new Promise<void>((r) => (markReady = r));
  pipeLines(worker.process.stdout, spec.label, spec.readyPattern, markReady, process.stdout);
  pipeLines(worker.process.stderr, spec.label, /$^/, () => {}, process.stderr);
  worker.process.once('exit', (code, signal) => {
    if (!stopping) spec.onUnexpectedExit(code, signal);
  });
  return {
    label: spec.label,
    pid: () => worker.process.pid,
    ready,
    stop: (signal) => {
      stopping = true;
      return stopProcess(worker.process, signal, graceMs);
    },
  };
}

/** Spawns a job worker process. */
export function spawnWorker(spec: Spec, script: string, graceMs: number): Supervised {
  const child = spawn(process.execPath, [script], { env: { ...process.env, ...spec.env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stopping = false;
  let markReady!: () => void;
  const ready = new Promise<void>((r) => (markReady = r));
  pipeLines(child.stdout, spec.label, spec.readyPattern, markReady, process.stdout);
  pipeLines(child.stderr, spec.label, /$^/, () => {}, process.stderr);
  child.once('exit', (code, signal) => {
    if (!stopping) spec.onUnexpectedExit(code, signal);
  });
  return {
    label: spec.label,
    pid: () => child.pid,
    ready,
    stop: (signal) => {
      stopping = true;
      return stopProcess(child, signal, graceMs);
    },
  };
}
