import { spawn, type ChildProcess } from 'node:child_process';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../support/processes.js';
import { freePort, startRedis, type PrivateRedis } from '../support/redis.js';

const LAUNCHER = 'apps/launcher/dist/main.js';

interface Launched {
  child: ChildProcess;
  output(): string;
  exited: Promise<number | null>;
}

function launch(env: Record<string, string>, args: string[] = []): Launched {
  const child = spawn(process.execPath, [LAUNCHER, ...args], { cwd: REPO_ROOT, env: { ...process.env, REDIS_URL: '', HUB_SECRET: '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, output: () => out, exited };
}

async function waitFor(l: Launched, pattern: RegExp, timeoutMs = 30_000): Promise<RegExpExecArray> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const m = pattern.exec(l.output());
    if (m) return m;
    if (l.child.exitCode !== null || Date.now() > deadline) throw new Error(`launcher did not print ${pattern} (exit ${l.child.exitCode}). Output:\n${l.output()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Every pid the launcher reported: hub nodes, workers and (when it started one) redis-server. */
function reportedPids(out: string): number[] {
  const pids: number[] = [];
  for (const m of out.matchAll(/\(pids? ([\d, ]+)\)/g)) pids.push(...m[1]!.split(',').map((s) => Number(s.trim())));
  for (const m of out.matchAll(/redis-server started for this run \(pid (\d+)\)/g)) pids.push(Number(m[1]));
  return pids;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** The system works end to end behind the one URL: the page, and a job through REST. */
async function exercise(url: string): Promise<void> {
  const page = await fetch(`${url}/`);
  expect(page.status).toBe(200);
  expect(page.headers.get('content-type')).toMatch(/text\/html/);
  const res = await fetch(`${url}/api/jobs`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: 'hash', data: { rounds: 20000 } }) });
  expect(res.status).toBe(202);
  const { jobId } = (await res.json()) as { jobId: string };
  const deadline = Date.now() + 15_000;
  let state = '';
  while (Date.now() < deadline) {
    const snap = (await (await fetch(`${url}/api/jobs/${jobId}`)).json()) as { state: string; result?: string };
    state = snap.state;
    if (state === 'completed') {
      expect(snap.result).toMatch(/^[0-9a-f]{64}$/);
      return;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`job ${jobId} ended in '${state}' instead of completed`);
}

async function stopAndCheck(l: Launched): Promise<void> {
  const pids = reportedPids(l.output());
  l.child.kill('SIGINT');
  expect(await l.exited).toBe(0);
  expect(l.output()).toContain('everything stopped');
  for (const pid of pids) expect(alive(pid), `pid ${pid} still running`).toBe(false);
}

describe('npm start (apps/launcher)', () => {
  let redis: PrivateRedis;
  const running: Launched[] = [];
  beforeAll(async () => {
    redis = await startRedis();
  });
  afterEach(() => {
    for (const l of running.splice(0)) if (l.child.exitCode === null) l.child.kill('SIGKILL');
  });
  afterAll(async () => {
    await redis?.stop();
  });

  it('with REDIS_URL: comes up behind one URL, runs a job, and SIGINT leaves nothing behind', async () => {
    const port = await freePort();
    const l = launch({ PORT: String(port), REDIS_URL: redis.url, REDIS_PREFIX: `launch${port}:` }, ['--hubs', '2', '--workers', '1']);
    running.push(l);
    const m = await waitFor(l, /Switchboard is running at (http:\/\/\S+)/);
    expect(m[1]).toBe(`http://127.0.0.1:${port}`);
    expect(l.output()).toMatch(/hub nodes: 2 behind port \d+ \(pids \d+, \d+\)/);
    expect(l.output()).toContain('from REDIS_URL');
    await exercise(m[1]!);
    await stopAndCheck(l);
  }, 60_000);

  it('without a Redis at the default address: starts a private redis-server and stops it on exit', async () => {
    const port = await freePort();
    const closed = await freePort();
    const l = launch({ PORT: String(port), SWITCHBOARD_DEFAULT_REDIS: `redis://127.0.0.1:${closed}` }, ['--hubs=1', '--workers=1']);
    running.push(l);
    const m = await waitFor(l, /Switchboard is running at (http:\/\/\S+)/);
    expect(l.output()).toMatch(/a private redis-server started for this run \(pid \d+\)/);
    await exercise(m[1]!);
    await stopAndCheck(l);
  }, 60_000);

  it('fails with a clear message when REDIS_URL does not answer', async () => {
    const closed = await freePort();
    const l = launch({ REDIS_URL: `redis://127.0.0.1:${closed}` });
    running.push(l);
    expect(await l.exited).toBe(1);
    expect(l.output()).toMatch(/REDIS_URL=redis:\/\/127\.0\.0\.1:\d+ does not answer/);
  }, 20_000);

  it('refuses bad arguments naming them', async () => {
    const l = launch({}, ['--hubs', 'many']);
    running.push(l);
    expect(await l.exited).toBe(2);
    expect(l.output()).toContain("--hubs must be an integer from 1 to 64, got 'many'");
  }, 20_000);
});
