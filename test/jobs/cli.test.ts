import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { EnqueueResult, JobListPage, JobSnapshot, JobTypeInfo, JobUpdate } from '@switchboard/contracts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, runCliJson, startJobsDeployment, type JobsDeployment } from './support.js';

// The `switchboard` CLI (apps/cli/dist/main.js) as a separate process against two hub nodes and a
// worker running the job set of fixtures/cli-jobs.mjs (`steps`, `flaky`). Commands go to either
// node: whatever one enqueues, the other lists and watches.

const MODULE = 'test/jobs/fixtures/cli-jobs.mjs';
const T = 20_000;

describe('the CLI against hub nodes and a worker', () => {
  let d: JobsDeployment;
  let dir: string;
  let a: string[];
  let b: string[];

  beforeAll(async () => {
    d = await startJobsDeployment({ env: { JOBS_MODULE: MODULE }, workers: [{ POOL_SIZE: '1', WORKER_CONCURRENCY: '4' }] });
    dir = mkdtempSync(join(tmpdir(), 'sb-cli-'));
    a = ['--url', d.hubA.url];
    b = ['--url', d.hubB.url];
  });
  afterAll(async () => {
    await d?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('types: the job set with stages, attempts and data fields (JSON Schema with --json)', async () => {
    const json = await runCliJson(['types', ...a], T);
    expect([json.code, json.error]).toEqual([0, undefined]);
    const types = json.out[0] as JobTypeInfo[];
    expect(types.map((t) => t.name)).toEqual(['steps', 'flaky']);
    expect(types[0]).toMatchObject({ name: 'steps', title: 'Steps', stages: ['load', 'work'], attempts: 1, schema: { type: 'object', required: ['steps'] } });
    expect(types[1]).toMatchObject({ name: 'flaky', stages: ['check'], attempts: 2 });
    const human = await runCli(['types', ...b], T);
    expect([human.code, human.stderr]).toEqual([0, '']);
    expect(human.stdout).toContain('steps  Steps\n  Counts through load and work at a steady pace.\n  stages: load, work · attempts: 1\n  data:\n');
    expect(human.stdout).toMatch(/\n {4}steps +integer 1\.\.100 — How many steps\n/);
    expect(human.stdout).toMatch(/\n {4}stepMs\? +integer 0\.\.5000 \(default 20\)\n/);
    expect(human.stdout).toMatch(/\n {4}mode\? +"even" \| "odd"\n {4}tags\? +array of string\n {4}loud\? +boolean\n/);
    expect(human.stdout).toMatch(/\nflaky\n  stages: check · attempts: 2\n  data:\n {4}marker +string 1\.\. chars\n/);
  });

  it('list --json shows a job just enqueued, with counts; the table shows it too', async () => {
    const before = ((await runCliJson(['list', '--name', 'steps', ...a], T)).out[0] as JobListPage).counts;
    const enq = await runCliJson(['enqueue', 'steps', '{"steps":100,"stepMs":200}', ...a], T);
    expect([enq.code, enq.error]).toEqual([0, undefined]);
    const { jobId } = enq.out[0] as EnqueueResult;
    const listed = await runCliJson(['list', '--name', 'steps', '--limit', '5', ...b], T);
    expect([listed.code, listed.out.length]).toEqual([0, 1]);
    const page = listed.out[0] as JobListPage;
    expect(page.jobs[0]).toMatchObject({ jobId, name: 'steps' });
    expect(['queued', 'active']).toContain(page.jobs[0]!.state);
    const total = (c: JobListPage['counts']) => Object.values(c).reduce((x, y) => x + y, 0);
    expect(total(page.counts)).toBe(total(before) + 1);
    expect(page.counts.queued + page.counts.active).toBeGreaterThanOrEqual(1);
    const table = await runCli(['list', '--name', 'steps', ...a], T);
    expect(table.code).toBe(0);
    expect(table.stdout).toMatch(/^queued \d+ · delayed \d+ · active \d+ · completed \d+ · failed \d+ · cancelled \d+\nID +NAME +STATE/);
    expect(table.stdout).toMatch(new RegExp(`\\n${jobId} +steps +(queued|active) `));
    // Not a flag of list: a usage error, nothing asked of the hub.
    const bad = await runCliJson(['list', '--state', 'lost', ...a], T);
    expect([bad.code, bad.out, bad.error?.code]).toEqual([2, [], 'SB_CLI_USAGE']);
    // Cancelled and removed: gone from the list.
    expect((await runCliJson(['cancel', jobId, ...b], T)).out).toEqual([{ jobId, cancelled: true }]);
    expect((await runCliJson(['remove', jobId, ...a], T)).out).toEqual([{ jobId, removed: true }]);
    const after = (await runCliJson(['list', '--name', 'steps', '--all', ...a], T)).out[0] as JobListPage;
    expect(after.jobs.map((j) => j.jobId)).not.toContain(jobId);
    const gone = await runCliJson(['get', jobId, ...b], T);
    expect([gone.code, gone.error?.code]).toEqual([1, 'SB_JOB_NOT_FOUND']);
  });

  it('enqueue --watch --json: JSON lines of updates in seq order, the final one last; watch (no --json) draws the bar with rate and ETA', async () => {
    const r = await runCliJson(['enqueue', 'steps', '{"steps":40,"stepMs":50}', '--watch', ...a], T);
    expect([r.code, r.error]).toEqual([0, undefined]);
    const updates = r.out as JobUpdate[];
    const seqs = updates.map((u) => u.seq);
    expect(seqs).toEqual([...seqs].sort((x, y) => x - y));
    expect(new Set(seqs).size).toBe(seqs.length);
    expect(updates.at(-1)).toMatchObject({ name: 'steps', state: 'completed', progress: 100, result: { steps: 40 } });
    expect(updates.some((u) => u.state === 'active' && u.stage === 'work')).toBe(true);

    // 5 s of work: the watch (a new process) starts well before the end and sees a rate.
    const { out } = await runCliJson(['enqueue', 'steps', '{"steps":50,"stepMs":100}', ...a], T);
    const { jobId } = out[0] as EnqueueResult;
    const watched = await runCli(['watch', jobId, ...b], T);
    expect([watched.code, watched.stderr]).toEqual([0, '']);
    // Not a TTY: one plain line per update, no control characters.
    expect(watched.stdout).not.toMatch(/[\r\x1b]/);
    expect(watched.stdout).toMatch(/\[#*-*\] +\d+% · active · stage work · \d+\.\d%\/s · ETA \S+/);
    expect(watched.stdout).toMatch(/100% · completed · stage work · ran \S+\nresult: \{"steps":50\}\n$/);
  });

  it('retry of a failed job: it runs again and completes (the marker decides), and only a failed job can be retried', async () => {
    const marker = join(dir, 'flaky-ok');
    const failed = await runCliJson(['enqueue', 'flaky', JSON.stringify({ marker }), '--watch', ...a], T);
    expect(failed.code).toBe(1);
    const last = failed.out.at(-1) as JobUpdate;
    expect(last).toMatchObject({ name: 'flaky', state: 'failed', attempt: 2 });
    expect(failed.error).toEqual({ error: last.error, code: 'SB_CLI_JOB_FAILED' });
    expect(last.error).toMatch(/does not exist yet \(attempt 2\)/);
    const listed = (await runCliJson(['list', '--state', 'failed', '--name', 'flaky', ...b], T)).out[0] as JobListPage;
    expect(listed.jobs.map((j) => j.jobId)).toContain(last.jobId);

    writeFileSync(marker, 'ok');
    const retried = await runCli(['retry', last.jobId, '--watch', ...b], T);
    expect([retried.code, retried.stderr]).toEqual([0, '']);
    expect(retried.stdout).toMatch(new RegExp(`^retrying ${last.jobId}: queued for its next attempt\\n`));
    expect(retried.stdout).toMatch(/· completed[^\n]*\nresult: \{"attempt":\d+\}\n$/);
    const done = (await runCliJson(['get', last.jobId, ...a], T)).out[0] as JobSnapshot;
    expect(done.state).toBe('completed');
    expect(done.attempt).toBeGreaterThan(last.attempt);
    expect(done.seq).toBeGreaterThan(last.seq);

    const again = await runCliJson(['retry', last.jobId, ...a], T);
    expect([again.code, again.out]).toEqual([1, []]);
    expect(again.error?.code).toBe('SB_JOB_STATE_CONFLICT');
    expect(again.error?.error).toMatch(/^SB_JOB_STATE_CONFLICT: .*only a failed job can be retried/);
  });

  it('enqueue --delay 2s --watch --json: delayed with its due time, then active, then completed', async () => {
    // One process enqueues and watches at once, so the first update is the delayed snapshot however
    // slowly processes start on this machine.
    const t0 = Date.now();
    const r = await runCliJson(['enqueue', 'steps', '{"steps":2,"stepMs":1}', '--delay', '2s', '--watch', ...a], T);
    expect([r.code, r.error]).toEqual([0, undefined]);
    const updates = r.out as JobUpdate[];
    const first = updates[0]!;
    expect(first).toMatchObject({ state: 'delayed', dueAt: expect.any(Number) });
    expect(first.dueAt! - t0).toBeGreaterThanOrEqual(2000);
    expect(first.dueAt! - t0).toBeLessThan(2000 + 10_000);
    const states = updates.map((u) => u.state).filter((st, i, all) => st !== all[i - 1]);
    expect(states[0]).toBe('delayed');
    expect(states.slice(-2)).toEqual(['active', 'completed']);
    expect(updates.at(-1)!.startedAt!).toBeGreaterThanOrEqual(first.dueAt! - 50);
  });

  it('a delayed job in get, list --state delayed (with its due time) and the table; cancelled while delayed', async () => {
    const t0 = Date.now();
    const { out } = await runCliJson(['enqueue', 'steps', '{"steps":1}', '--delay', '10m', ...a], T);
    const { jobId } = out[0] as EnqueueResult;
    const got = (await runCliJson(['get', jobId, ...b], T)).out[0] as JobSnapshot;
    expect(got).toMatchObject({ jobId, state: 'delayed' });
    expect(got.dueAt! - t0).toBeGreaterThanOrEqual(600_000);
    const listed = (await runCliJson(['list', '--state', 'delayed', ...a], T)).out[0] as JobListPage;
    expect(listed.jobs.find((j) => j.jobId === jobId)).toMatchObject({ state: 'delayed', dueAt: got.dueAt });
    expect(listed.counts.delayed).toBeGreaterThanOrEqual(1);
    const table = await runCli(['list', '--state', 'delayed', ...b], T);
    expect(table.stdout).toMatch(new RegExp(`\\n${jobId} +steps +delayed +0% +1 +\\S+ ago +due in (9m|10m) \\d\\ds\\n`));
    expect((await runCliJson(['cancel', jobId, ...b], T)).out).toEqual([{ jobId, cancelled: true }]);
    expect(((await runCliJson(['get', jobId, ...a], T)).out[0] as JobSnapshot).state).toBe('cancelled');
  });

  it('--idempotency-key twice: the same id, the second a duplicate that enqueued nothing', async () => {
    const key = `cli-${Date.now()}`;
    const first = await runCliJson(['enqueue', 'steps', '{"steps":1,"stepMs":1}', '--idempotency-key', key, '--priority', '5', ...a], T);
    const second = await runCliJson(['enqueue', 'steps', '{"steps":1,"stepMs":1}', '--idempotency-key', key, ...b], T);
    const { jobId } = first.out[0] as EnqueueResult;
    expect(first.out).toEqual([{ jobId }]);
    expect(second.out).toEqual([{ jobId, duplicate: true }]);
    const human = await runCli(['enqueue', 'steps', '{"steps":1}', '--idempotency-key', key, ...a], T);
    expect([human.code, human.stdout]).toEqual([0, `already enqueued as ${jobId}: nothing was enqueued (same --idempotency-key)\n`]);
    expect(((await runCliJson(['get', jobId, ...a], T)).out[0] as JobSnapshot).priority).toBe(5);
  });

  it('--json errors on stderr with their code and exit codes: hub refusals 1, usage 2, --help 0', async () => {
    const unknown = await runCliJson(['enqueue', 'nope', '{}', ...a], T);
    expect([unknown.code, unknown.out]).toEqual([1, []]);
    expect(unknown.error).toEqual({ code: 'SB_JOB_UNKNOWN', error: expect.stringMatching(/^SB_JOB_UNKNOWN: Unknown job name "nope"; known jobs: steps, flaky/) });
    const invalid = await runCliJson(['enqueue', 'steps', '{"steps":0}', ...a], T);
    expect([invalid.code, invalid.error?.code]).toEqual([1, 'SB_JOB_INVALID_DATA']);
    const options = await runCliJson(['enqueue', 'steps', '{"steps":1}', '--delay', '31d', ...a], T);
    expect([options.code, options.error?.code]).toEqual([1, 'SB_JOB_OPTIONS_INVALID']);
    const missing = await runCliJson(['watch', 'no-such-job', ...a], T);
    expect([missing.code, missing.error?.code]).toEqual([1, 'SB_JOB_NOT_FOUND']);
    const usage = await runCliJson(['list', '--frob', ...a], T);
    expect([usage.code, usage.out, usage.error]).toEqual([2, [], { error: "unknown option '--frob'", code: 'SB_CLI_USAGE' }]);
    const unreachable = await runCliJson(['types', '--url', 'http://127.0.0.1:1'], T);
    expect([unreachable.code, unreachable.out, unreachable.error?.code]).toEqual([1, [], 'SB_CLI_UNREACHABLE']);

    const human = await runCli(['list', '--limit', 'lots', ...a], T);
    expect([human.code, human.stdout]).toEqual([2, '']);
    expect(human.stderr).toMatch(/^cli: --limit must be an integer from 1 to 200, got 'lots'\nusage: switchboard list /);
    const help = await runCli(['--help'], T);
    expect([help.code, help.stderr]).toEqual([0, '']);
    expect(help.stdout).toMatch(/^usage: switchboard <command>[\s\S]*exit codes: 0 success/);
    const none = await runCli([], T);
    expect([none.code, none.stdout]).toEqual([2, '']);
    expect(none.stderr).toMatch(/^cli: no command given\nusage: switchboard <command>/);
    const refused = await runCli(['cancel', 'no-such-job', ...a], T);
    expect([refused.code, refused.stdout]).toEqual([1, '']);
    expect(refused.stderr).toMatch(/^cli: SB_JOB_NOT_FOUND: /);
  });
});
