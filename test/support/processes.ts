import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root (the folder with turbo.json), from source or from test/dist. */
export const REPO_ROOT = findRoot(dirname(fileURLToPath(import.meta.url)));

function findRoot(dir: string): string {
  for (let d = dir; ; d = dirname(d)) {
    if (existsSync(join(d, 'turbo.json'))) return d;
    if (dirname(d) === d) throw new Error(`no turbo.json above ${dir}`);
  }
}

export interface StartedProcess {
  readonly child: ChildProcess;
  readonly url: string;
  /** Everything the process wrote to stdout and stderr so far. */
  output(): string;
  /** Sends `signal` and waits for the exit (SIGKILL after `graceMs`). */
  stop(signal?: NodeJS.Signals, graceMs?: number): Promise<number | null>;
}

/**
 * Starts a Node script from the repo and waits until it prints `listening on <url>` (or, with
 * `readyPattern`, until its stdout matches that; `url` is then the first capture group, or '').
 * The process is killed if it does not get there within `timeoutMs`.
 */
export function startNodeProcess(script: string, env: Record<string, string>, timeoutMs = 15_000, readyPattern?: RegExp, opts: { nofile?: number } = {}): Promise<StartedProcess> {
  // `nofile`: run it under `ulimit -n <nofile>` (bash sets the limit, then execs node in its place).
  const child =
    opts.nofile === undefined
      ? spawn(process.execPath, [script], { cwd: REPO_ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] })
      : spawn('bash', ['-c', `ulimit -n ${opts.nofile} && exec "$SB_NODE" "$SB_SCRIPT"`], {
          cwd: REPO_ROOT,
          env: { ...process.env, ...env, SB_NODE: process.execPath, SB_SCRIPT: script },
          stdio: ['ignore', 'pipe', 'pipe'],
        });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const stop = async (signal: NodeJS.Signals = 'SIGTERM', graceMs = 5000): Promise<number | null> => {
    if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
    child.kill(signal);
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    const code = await exited;
    clearTimeout(timer);
    return code;
  };
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${script} did not print ${readyPattern ?? "'listening on'"} within ${timeoutMs} ms. Output:\n${out}`));
    }, timeoutMs);
    const onData = () => {
      const m = (readyPattern ?? /listening on (http:\/\/[^\s]+)/).exec(out);
      if (!m) return;
      clearTimeout(timer);
      child.stdout!.off('data', onData);
      resolve({ child, url: m[1] ?? '', output: () => out, stop });
    };
    child.stdout!.on('data', onData);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`${script} exited with ${code} before listening. Output:\n${out}`));
    });
  });
}
