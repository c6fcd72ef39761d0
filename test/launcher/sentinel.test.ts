import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../support/processes.js';
import { freePort } from '../support/redis.js';
import { startRedisSentinel, type PrivateSentinel } from '../support/sentinel.js';

// npm start with REDIS_SENTINELS: it uses the Sentinel group (passing it to every process) and
// neither looks for nor starts a Redis; a missing name or a group that does not answer stops it
// with a message naming the variables.

interface Launched {
  child: ChildProcess;
  output(): string;
  exited: Promise<number | null>;
}

function launch(env: Record<string, string>, args: string[] = []): Launched {
  const child = spawn(process.execPath, ['apps/launcher/dist/main.js', ...args], {
    cwd: REPO_ROOT,
    env: { ...process.env, REDIS_URL: '', REDIS_SENTINELS: '', REDIS_SENTINEL_NAME: '', HUB_SECRET: '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, output: () => out, exited };
}

async function waitForOutput(l: Launched, pattern: RegExp, timeoutMs = 30_000): Promise<RegExpExecArray> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const m = pattern.exec(l.output());
    if (m) return m;
    if (l.child.exitCode !== null || Date.now() > deadline) throw new Error(`launcher did not print ${pattern} (exit ${l.child.exitCode}). Output:\n${l.output()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('npm start with REDIS_SENTINELS (apps/launcher)', () => {
  let sentinel: PrivateSentinel;
  const running: Launched[] = [];
  beforeAll(async () => {
    sentinel = await startRedisSentinel();
  });
  afterEach(() => {
    for (const l of running.splice(0)) if (l.child.exitCode === null) l.child.kill('SIGKILL');
  });
  afterAll(async () => {
    await sentinel?.stop();
  });

  it('uses the Sentinel group, starts no Redis, runs a job, and SIGINT stops everything', async () => {
    const port = await freePort();
    const nowhere = await freePort();
    const l = launch(
      { PORT: String(port), REDIS_SENTINELS: sentinel.sentinelsEnv, REDIS_SENTINEL_NAME: sentinel.name, REDIS_PREFIX: `launchsentinel${port}:`, SWITCHBOARD_DEFAULT_REDIS: `redis://127.0.0.1:${nowhere}` },
      ['--hubs', '2', '--workers', '1'],
    );
    running.push(l);
    const m = await waitForOutput(l, /Switchboard is running at (http:\/\/\S+)/);
    expect(l.output()).toContain(`Redis:     sentinel master '${sentinel.name}' via ${sentinel.sentinelsEnv} (from REDIS_SENTINELS`);
    expect(l.output()).not.toContain('redis-server started');
    const res = await fetch(`${m[1]}/api/jobs`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: 'hash', data: { rounds: 2000 } }) });
    expect(res.status).toBe(202);
    const { jobId } = (await res.json()) as { jobId: string };
    let state = '';
    for (const deadline = Date.now() + 15_000; Date.now() < deadline && state !== 'completed'; await new Promise((r) => setTimeout(r, 100))) {
      state = ((await (await fetch(`${m[1]}/api/jobs/${jobId}`)).json()) as { state: string }).state;
    }
    expect(state).toBe('completed');
    // The job's record is on the Sentinel group's master.
    const keys = execFileSync('redis-cli', ['-p', String(await sentinel.masterPort()), '--scan', '--pattern', `*launchsentinel${port}:*`]).toString();
    expect(keys).toContain(jobId);
    l.child.kill('SIGINT');
    expect(await l.exited).toBe(0);
    expect(l.output()).toContain('everything stopped');
  }, 60_000);

  it('refuses REDIS_SENTINELS without REDIS_SENTINEL_NAME, naming it (exit 2)', async () => {
    const l = launch({ REDIS_SENTINELS: sentinel.sentinelsEnv });
    running.push(l);
    expect(await l.exited).toBe(2);
    expect(l.output()).toContain('REDIS_SENTINEL_NAME is required with REDIS_SENTINELS');
  }, 20_000);

  it('fails with a clear message when the sentinels do not answer (exit 1)', async () => {
    const closed = await freePort();
    const l = launch({ REDIS_SENTINELS: `127.0.0.1:${closed}`, REDIS_SENTINEL_NAME: 'mymaster' });
    running.push(l);
    expect(await l.exited).toBe(1);
    expect(l.output()).toMatch(new RegExp(`REDIS_SENTINELS=127\\.0\\.0\\.1:${closed} \\(REDIS_SENTINEL_NAME=mymaster\\) does not lead to a master that answers`));
  }, 20_000);
});
