import type { JobListPage, JobListQuery, JobSnapshot, JobUpdate } from '@switchboard/contracts';
import { describe, expect, it, vi } from 'vitest';
import { parseCommandLine, type Command } from './args.js';
import { CliError, errorCode, errorMessage, listAll, MAX_ALL_JOBS, runCommand, type Io, type JobsApi } from './commands.js';

const COUNTS = { queued: 0, delayed: 0, active: 0, completed: 0, failed: 0, cancelled: 0 };

function io(tty = false) {
  const out: string[] = [];
  const err: string[] = [];
  const value: Io = { out: (t) => void out.push(t), err: (t) => void err.push(t), now: () => 1_000, tty, columns: () => 120, every: () => () => {} };
  return { io: value, stdout: () => out.join(''), stderr: () => err.join('') };
}

function snap(fields: Partial<JobUpdate>): JobUpdate {
  return { jobId: 'j1', name: 'hash', seq: 1, state: 'queued', progress: 0, attempt: 1, createdAt: 0, updatedAt: 0, ...fields } as JobUpdate;
}

/** A fake hub: every method fails unless the test gives it. */
function fakeJobs(over: Partial<JobsApi>): JobsApi {
  const no = (m: string) => () => Promise.reject(new Error(`unexpected ${m}`));
  return { jobTypes: no('jobTypes'), list: no('list'), enqueue: no('enqueue'), get: no('get'), follow: no('follow'), retry: no('retry'), cancel: no('cancel'), remove: no('remove'), ...over };
}

/** `follow` that plays `updates` and resolves with the last one. */
function playing(updates: JobUpdate[]): JobsApi['follow'] {
  return async (_id, onUpdate) => {
    for (const u of updates) onUpdate(u);
    return updates.at(-1)!;
  };
}

function cmd(line: string[]): { command: Command; json: boolean } {
  const inv = parseCommandLine(line);
  if (inv.help) throw new Error('help');
  return { command: inv.command, json: inv.json };
}

async function run(line: string[], jobs: JobsApi, tty = false) {
  const o = io(tty);
  const { command, json } = cmd(line);
  const code = await runCommand(command, json, jobs, o.io);
  return { code, stdout: o.stdout(), stderr: o.stderr() };
}

describe('enqueue', () => {
  it('passes the options; prints the id, or "already enqueued as" for a duplicate; --json prints the result only', async () => {
    const enqueue = vi.fn(async () => ({ jobId: 'j9' }));
    expect(await run(['enqueue', 'hash', '{"rounds":1}', '--delay', '5s', '--priority', '2', '--idempotency-key', 'k'], fakeJobs({ enqueue }))).toEqual({ code: 0, stdout: 'enqueued hash as j9 (delayed 5s)\n', stderr: '' });
    expect(enqueue).toHaveBeenCalledWith('hash', { rounds: 1 }, { delayMs: 5000, priority: 2, idempotencyKey: 'k' });
    const dup = fakeJobs({ enqueue: async () => ({ jobId: 'j1', duplicate: true }) });
    expect((await run(['enqueue', 'hash', '{}', '--idempotency-key', 'k'], dup)).stdout).toBe('already enqueued as j1: nothing was enqueued (same --idempotency-key)\n');
    expect(await run(['enqueue', 'hash', '{}', '--idempotency-key', 'k', '--json'], dup)).toEqual({ code: 0, stdout: '{"jobId":"j1","duplicate":true}\n', stderr: '' });
    expect((await run(['enqueue', 'hash', '{}', '--json'], fakeJobs({ enqueue }))).stdout).toBe('{"jobId":"j9"}\n');
  });

  it('--watch --json: JSON lines of the updates, the final one last, exit 0 when it completed', async () => {
    const updates = [snap({ seq: 1 }), snap({ seq: 2, state: 'active', progress: 50 }), snap({ seq: 3, state: 'completed', progress: 100, result: 'abc' })];
    const r = await run(['enqueue', 'hash', '{}', '--watch', '--json'], fakeJobs({ enqueue: async () => ({ jobId: 'j1' }), follow: playing(updates) }));
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    expect(r.stdout.trimEnd().split('\n').map((l) => JSON.parse(l))).toEqual(updates);
  });

  it('--watch: the bar, then the result', async () => {
    const r = await run(['enqueue', 'hash', '{}', '--watch'], fakeJobs({ enqueue: async () => ({ jobId: 'j1' }), follow: playing([snap({ seq: 1 }), snap({ seq: 2, state: 'completed', progress: 100, result: 'abc' })]) }));
    expect(r.stdout).toBe('enqueued hash as j1\n[------------------------------]   0% · queued\n[##############################] 100% · completed\nresult: "abc"\n');
    expect(r.code).toBe(0);
  });
});

describe('watch', () => {
  it.each(['failed', 'cancelled', 'lost'] as const)('a job that ends %s exits 1; --json adds {"error","code"} on stderr', async (state) => {
    const final = snap({ seq: 2, state, error: `it ${state}` });
    const human = await run(['watch', 'j1'], fakeJobs({ follow: playing([final]) }));
    expect(human.code).toBe(1);
    expect(human.stdout).toMatch(new RegExp(`· ${state}\\nerror: it ${state}\\n$`));
    const json = await run(['watch', 'j1', '--json'], fakeJobs({ follow: playing([final]) }));
    expect(json.code).toBe(1);
    expect(JSON.parse(json.stdout)).toEqual(final);
    expect(JSON.parse(json.stderr)).toEqual({ error: `it ${state}`, code: `SB_CLI_JOB_${state.toUpperCase()}` });
  });

  it('on a TTY redraws in place and ends the line before the result', async () => {
    const r = await run(['watch', 'j1'], fakeJobs({ follow: playing([snap({ state: 'active', progress: 50 }), snap({ seq: 2, state: 'completed', progress: 100, result: 1 })]) }), true);
    expect(r.stdout).toBe('\r\x1b[2K[###############---------------]  50% · active\r\x1b[2K[##############################] 100% · completed\nresult: 1\n');
  });
});

describe('list', () => {
  const page = (jobs: string[], nextCursor?: string): JobListPage => ({ jobs: jobs.map((jobId) => snap({ jobId })), counts: { ...COUNTS, queued: jobs.length }, ...(nextCursor ? { nextCursor } : {}) });

  it('passes the query; --json prints the page as is', async () => {
    const list = vi.fn(async (_q: JobListQuery) => page(['a'], 'c1'));
    const r = await run(['list', '--state', 'failed', '--name', 'hash', '--limit', '5', '--json'], fakeJobs({ list }));
    expect(list).toHaveBeenCalledWith({ state: 'failed', name: 'hash', limit: 5 });
    expect(JSON.parse(r.stdout)).toEqual(page(['a'], 'c1'));
  });

  it('--all follows nextCursor to the last page with the page size asked for (200 by default)', async () => {
    const pages: Record<string, JobListPage> = { start: page(['a', 'b'], 'c1'), c1: page(['c'], 'c2'), c2: page(['d']) };
    const list = vi.fn(async (q: JobListQuery) => pages[q.cursor ?? 'start']!);
    const all = await listAll(fakeJobs({ list }), { name: 'hash' });
    expect(all.jobs.map((j) => j.jobId)).toEqual(['a', 'b', 'c', 'd']);
    expect(all.nextCursor).toBeUndefined();
    expect(list.mock.calls.map(([q]) => q)).toEqual([{ name: 'hash', limit: 200 }, { name: 'hash', limit: 200, cursor: 'c1' }, { name: 'hash', limit: 200, cursor: 'c2' }]);
    await listAll(fakeJobs({ list }), { limit: 7 });
    expect(list.mock.calls.at(-1)![0]).toEqual({ limit: 7, cursor: 'c2' });
  });

  it(`--all stops after ${MAX_ALL_JOBS} jobs with the cursor to go on from, and on a cursor that comes back`, async () => {
    let n = 0;
    const endless = fakeJobs({ list: async () => page(Array.from({ length: 200 }, () => `j${n++}`), `c${n}`) });
    const bounded = await listAll(endless, {});
    expect(bounded.jobs.length).toBe(MAX_ALL_JOBS);
    expect(bounded.nextCursor).toBe(`c${MAX_ALL_JOBS}`);
    const looping = await listAll(fakeJobs({ list: async () => page(['x'], 'same') }), {});
    expect(looping.jobs.length).toBe(2);
    expect(looping.nextCursor).toBeUndefined();
  });
});

describe('retry, get, cancel, remove, types', () => {
  it('retry prints the id; --watch follows the new attempt', async () => {
    const retry = vi.fn(async (jobId: string) => ({ jobId }));
    expect(await run(['retry', 'j1', '--json'], fakeJobs({ retry }))).toEqual({ code: 0, stdout: '{"jobId":"j1"}\n', stderr: '' });
    const watched = await run(['retry', 'j1', '--watch', '--json'], fakeJobs({ retry, follow: playing([snap({ attempt: 4 }), snap({ seq: 2, state: 'completed', attempt: 4 })]) }));
    expect(watched.code).toBe(0);
    expect(watched.stdout.trimEnd().split('\n').map((l) => (JSON.parse(l) as JobUpdate).state)).toEqual(['queued', 'completed']);
  });

  it('get prints the snapshot (indented for people, one line with --json)', async () => {
    const get = async (): Promise<JobSnapshot> => snap({ state: 'delayed', dueAt: 5 });
    expect((await run(['get', 'j1'], fakeJobs({ get }))).stdout).toBe(`${JSON.stringify(await get(), null, 2)}\n`);
    expect((await run(['get', 'j1', '--json'], fakeJobs({ get }))).stdout).toBe(`${JSON.stringify(await get())}\n`);
  });

  it('cancel and remove: 0 when done, 1 (with a JSON error) when not', async () => {
    expect(await run(['cancel', 'j1', '--json'], fakeJobs({ cancel: async () => true }))).toEqual({ code: 0, stdout: '{"jobId":"j1","cancelled":true}\n', stderr: '' });
    expect(await run(['cancel', 'j1'], fakeJobs({ cancel: async () => false }))).toEqual({ code: 1, stdout: 'j1 had already ended\n', stderr: '' });
    const notCancelled = await run(['cancel', 'j1', '--json'], fakeJobs({ cancel: async () => false }));
    expect([notCancelled.code, JSON.parse(notCancelled.stderr).code]).toEqual([1, 'SB_CLI_ALREADY_ENDED']);
    expect(await run(['remove', 'j1'], fakeJobs({ remove: async () => true }))).toEqual({ code: 0, stdout: 'removed j1\n', stderr: '' });
    const notRemoved = await run(['remove', 'j1', '--json'], fakeJobs({ remove: async () => false }));
    expect([notRemoved.code, notRemoved.stdout, JSON.parse(notRemoved.stderr).code]).toEqual([1, '{"jobId":"j1","removed":false}\n', 'SB_CLI_NOT_REMOVED']);
  });

  it('types: the job set as JSON with --json', async () => {
    const types = [{ name: 'hash', stages: ['hashing'], attempts: 1, schema: { type: 'object' } }];
    expect(JSON.parse((await run(['types', '--json'], fakeJobs({ jobTypes: async () => types }))).stdout)).toEqual(types);
    expect((await run(['types'], fakeJobs({ jobTypes: async () => types }))).stdout).toBe('hash\n  stages: hashing · attempts: 1\n  data: object\n');
  });

  it('a hub refusal rejects (main prints it and exits 1)', async () => {
    await expect(run(['retry', 'j1'], fakeJobs({ retry: () => Promise.reject(new Error("An unexpected error occurred invoking 'retry' on the server. HubException: SB_JOB_STATE_CONFLICT: not failed")) }))).rejects.toThrow(/SB_JOB_STATE_CONFLICT/);
  });
});

describe('errorMessage and errorCode', () => {
  it("take the hub's text and its SB_ code; CLI errors carry their own; anything else is SB_CLI_ERROR", () => {
    const hub = new Error("An unexpected error occurred invoking 'retry' on the server. HubException: SB_JOB_STATE_CONFLICT: Job 'x' is active.");
    expect(errorMessage(hub)).toBe("SB_JOB_STATE_CONFLICT: Job 'x' is active.");
    expect(errorCode(hub)).toBe('SB_JOB_STATE_CONFLICT');
    expect(errorCode(new CliError('no hub', 'SB_CLI_UNREACHABLE'))).toBe('SB_CLI_UNREACHABLE');
    expect(errorCode(new Error('weird'))).toBe('SB_CLI_ERROR');
  });
});
