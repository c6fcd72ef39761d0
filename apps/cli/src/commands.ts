import type { EnqueueOptions, EnqueueResult, JobListPage, JobListQuery, JobSnapshot, JobTypeInfo, JobUpdate, ListedJobState } from '@switchboard/contracts';
import type { Command } from './args.js';
import { formatDuration } from './duration.js';
import { ProgressView } from './progress-bar.js';
import { renderList, renderTypes } from './render.js';

// The commands, on an abstract jobs API and injected output and clock, so that what each command
// prints and which exit code it returns are unit-tested against a fake hub; main.ts wires them to
// @switchboard/client and the process.

/** What the commands need of the jobs hub (main.ts adapts a `JobsConnection`). */
export interface JobsApi {
  jobTypes(): Promise<JobTypeInfo[]>;
  list(query: JobListQuery): Promise<JobListPage>;
  enqueue(name: string, data: unknown, options: EnqueueOptions): Promise<EnqueueResult>;
  get(jobId: string): Promise<JobSnapshot>;
  /** Watches the job: every update in `seq` order (the snapshot first) to `onUpdate`; resolves with the terminal one. */
  follow(jobId: string, onUpdate: (u: JobUpdate) => void): Promise<JobUpdate>;
  retry(jobId: string): Promise<{ jobId: string }>;
  cancel(jobId: string): Promise<boolean>;
  remove(jobId: string): Promise<boolean>;
}

export interface Io {
  out(text: string): void;
  err(text: string): void;
  now(): number;
  readonly tty: boolean;
  columns(): number | undefined;
  /** Calls `fn` every `ms` until the returned function is called (redraws the ETA on a TTY). */
  every(ms: number, fn: () => void): () => void;
}

export const EXIT = { ok: 0, failed: 1, usage: 2 } as const;

/** `--all` stops after this many jobs (printing the cursor to go on from), so a queue of millions cannot flood a terminal or a script's memory. */
export const MAX_ALL_JOBS = 10_000;
/** The page size `--all` asks for when `--limit` is not given (the hub's maximum). */
const ALL_PAGE_SIZE = 200;

/** An error with the stable code `--json` reports; hub errors carry theirs in the text ("SB_...: ..."). */
export class CliError extends Error {
  constructor(
    message: string,
    readonly code: string,
    readonly exitCode: number = EXIT.failed,
  ) {
    super(message);
  }
}

/**
 * The part of an error a person should read: the official client wraps a hub error as "... HubException:
 * <message>"; Switchboard's messages start with their code (same rule as @switchboard/client's hubErrorMessage).
 */
export function errorMessage(err: unknown): string {
  const text = err instanceof Error ? err.message : String(err);
  return (/HubException: ([\s\S]*)$/.exec(text)?.[1] ?? text).trim();
}

export function errorCode(err: unknown): string {
  if (err instanceof CliError) return err.code;
  return /^(SB_[A-Z0-9_]+):/.exec(errorMessage(err))?.[1] ?? 'SB_CLI_ERROR';
}

/** Prints an error as `cli: <message>` or, with `--json`, as `{"error","code"}`; both on stderr. */
export function printError(io: Io, json: boolean, message: string, code: string): void {
  io.err(json ? `${JSON.stringify({ error: message, code })}\n` : `cli: ${message}\n`);
}

/** Runs one command; returns the exit code. Hub refusals reject (main.ts prints them and exits 1). */
export async function runCommand(command: Command, json: boolean, jobs: JobsApi, io: Io): Promise<number> {
  const print = (human: string, machine: unknown) => io.out(json ? `${JSON.stringify(machine)}\n` : `${human}\n`);
  switch (command.kind) {
    case 'types': {
      const types = await jobs.jobTypes();
      print(renderTypes(types), types);
      return EXIT.ok;
    }
    case 'list': {
      const page = command.all ? await listAll(jobs, command.query) : await jobs.list(command.query);
      print(renderList(page, io.now()), page);
      return EXIT.ok;
    }
    case 'enqueue': {
      const { jobId, duplicate } = await jobs.enqueue(command.name, command.data, command.options);
      if (!json) {
        const delayed = command.options.delayMs ? ` (delayed ${formatDuration(command.options.delayMs)})` : '';
        io.out(duplicate ? `already enqueued as ${jobId}: nothing was enqueued (same --idempotency-key)\n` : `enqueued ${command.name} as ${jobId}${delayed}\n`);
      } else if (!command.watch) io.out(`${JSON.stringify({ jobId, ...(duplicate ? { duplicate } : {}) })}\n`);
      return command.watch ? follow(jobs, jobId, json, io) : EXIT.ok;
    }
    case 'retry': {
      const { jobId } = await jobs.retry(command.jobId);
      if (!json) io.out(`retrying ${jobId}: queued for its next attempt\n`);
      else if (!command.watch) io.out(`${JSON.stringify({ jobId })}\n`);
      return command.watch ? follow(jobs, jobId, json, io) : EXIT.ok;
    }
    case 'watch':
      return follow(jobs, command.jobId, json, io);
    case 'get': {
      const snapshot = await jobs.get(command.jobId);
      print(JSON.stringify(snapshot, null, 2), snapshot);
      return EXIT.ok;
    }
    case 'cancel': {
      const cancelled = await jobs.cancel(command.jobId);
      print(cancelled ? `cancelled ${command.jobId}` : `${command.jobId} had already ended`, { jobId: command.jobId, cancelled });
      if (cancelled) return EXIT.ok;
      if (json) printError(io, json, `${command.jobId} had already ended`, 'SB_CLI_ALREADY_ENDED');
      return EXIT.failed;
    }
    case 'remove': {
      const removed = await jobs.remove(command.jobId);
      print(removed ? `removed ${command.jobId}` : `${command.jobId} was not removed (it is gone already)`, { jobId: command.jobId, removed });
      if (removed) return EXIT.ok;
      if (json) printError(io, json, `${command.jobId} was not removed (it is gone already)`, 'SB_CLI_NOT_REMOVED');
      return EXIT.failed;
    }
  }
}

/** Follows `nextCursor` until the last page or MAX_ALL_JOBS; answers one page of all of them (with `nextCursor` when it stopped early). */
export async function listAll(jobs: JobsApi, query: JobListQuery): Promise<JobListPage> {
  const all: JobSnapshot[] = [];
  const seen = new Set<string>();
  let page = await jobs.list({ ...query, limit: query.limit ?? ALL_PAGE_SIZE });
  for (;;) {
    all.push(...page.jobs);
    const next = page.nextCursor;
    // A cursor that comes back is a server bug; stopping beats looping forever.
    if (next === undefined || seen.has(next) || all.length >= MAX_ALL_JOBS) break;
    seen.add(next);
    page = await jobs.list({ ...query, limit: query.limit ?? ALL_PAGE_SIZE, cursor: next });
  }
  const counts: Record<ListedJobState, number> = { ...page.counts };
  return { jobs: all, counts, ...(page.nextCursor !== undefined && !seen.has(page.nextCursor) ? { nextCursor: page.nextCursor } : {}) };
}

/** Watches a job to its end: a progress bar, or JSON lines with `--json`; 0 when it completed. */
export async function follow(jobs: JobsApi, jobId: string, json: boolean, io: Io): Promise<number> {
  const view = json ? undefined : new ProgressView(io.out, io.tty, io.columns);
  const stopTicks = view && io.tty ? io.every(1000, () => view.tick(io.now())) : undefined;
  let final: JobUpdate;
  try {
    final = await jobs.follow(jobId, (u) => (view ? view.update(u, io.now()) : io.out(`${JSON.stringify(u)}\n`)));
  } finally {
    stopTicks?.();
    view?.end();
  }
  if (final.state === 'completed') {
    if (!json) io.out(`result: ${JSON.stringify(final.result)}\n`);
    return EXIT.ok;
  }
  const message = final.error ?? `the job ended ${final.state}`;
  if (json) printError(io, json, message, `SB_CLI_JOB_${final.state.toUpperCase()}`);
  else io.out(`error: ${message}\n`);
  return EXIT.failed;
}
