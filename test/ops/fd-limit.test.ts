import { spawn } from 'node:child_process';
import { createServer, type Server } from 'node:net';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { UpgradeRefused, rawPool } from '../hub/raw-client.js';
import { REPO_ROOT, startNodeProcess, type StartedProcess } from '../support/processes.js';
import { get } from './support.js';

// The hub app at the edges of its file descriptors: a port already taken, and a node whose open
// files limit (ulimit -n) is small, so that its default connection cap (the limit minus a reserve,
// apps/hub/src/fd-limit.ts) is reached with a few hundred WebSockets.

const HUB = 'apps/hub/dist/main.js';
const BASE_ENV = { PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'info', HUB_SECRET: 'fd-limit-test-secret-0123456789' };

/** The JSON log lines of `output` (pino on stderr). */
function jsonLines(output: string): Record<string, unknown>[] {
  return output
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

/** Starts the hub app under `ulimit -n <nofile>` (bash, then exec node) and waits for `listening on`. */
function startUnderUlimit(nofile: number, env: Record<string, string>, timeoutMs = 15_000): Promise<StartedProcess> {
  return startNodeProcess(HUB, { ...BASE_ENV, ...env }, timeoutMs, undefined, { nofile });
}

describe('hub app: file descriptors', () => {
  const started: StartedProcess[] = [];
  const raw = rawPool();
  let taken: Server | undefined;

  afterEach(() => raw.terminateAll());
  afterAll(async () => {
    await Promise.all(started.map((p) => p.stop('SIGKILL')));
    if (taken) await new Promise((r) => taken!.close(r));
  });

  it('a port already in use: exit code 1 and one JSON error line naming the port, no stack trace', async () => {
    taken = createServer();
    await new Promise<void>((r) => taken!.listen(0, '127.0.0.1', r));
    const port = (taken.address() as { port: number }).port;
    const child = spawn(process.execPath, [HUB], { cwd: REPO_ROOT, env: { ...process.env, ...BASE_ENV, PORT: String(port) }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const code = await new Promise<number | null>((resolve, reject) => {
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        reject(new Error(`the hub did not exit within 15 s. Output:\n${out}`));
      }, 15_000);
      child.once('exit', (c) => {
        clearTimeout(timer);
        resolve(c);
      });
    });
    expect(code, out).toBe(1);
    const errors = jsonLines(out).filter((l) => l['level'] === 50);
    expect(errors, out).toHaveLength(1);
    expect(errors[0]).toMatchObject({ app: 'hub', code: 'EADDRINUSE', syscall: 'listen', port, host: '127.0.0.1' });
    expect(errors[0]!['msg']).toBe(`cannot listen on 127.0.0.1:${port}: port ${port} is already in use: stop the process that holds it (\`ss -ltnp 'sport = :${port}'\` shows it) or set PORT to a free port`);
    expect(out).not.toMatch(/Unhandled 'error' event|^\s+at /m);
    expect(out).not.toContain('listening on');
  });

  it("MAX_CONNECTIONS unset under ulimit -n 300: capped at 150; the 200 more get 503, /healthz, /metrics stay up", async () => {
    const hub = await startUnderUlimit(300, {});
    started.push(hub);
    const capLine = jsonLines(hub.output()).find((l) => typeof l['msg'] === 'string' && (l['msg'] as string).startsWith('MAX_CONNECTIONS is not set'));
    expect(capLine, hub.output()).toMatchObject({ level: 30, maxConnections: 150, openFilesLimit: 300, reserve: 150 });

    const ws = `${hub.url.replace('http', 'ws')}/hubs/chat`;
    let connected = 0;
    const refusals: UpgradeRefused[] = [];
    const failures: unknown[] = [];
    // In batches, as clients arrive: every attempt gets an answer (none is reset).
    for (let i = 0; i < 350; i += 25) {
      const batch = await Promise.allSettled(Array.from({ length: 25 }, () => raw.connected(ws)));
      for (const r of batch) {
        if (r.status === 'fulfilled') connected++;
        else if (r.reason instanceof UpgradeRefused) refusals.push(r.reason);
        else failures.push(r.reason);
      }
    }
    expect(failures.map(String)).toEqual([]);
    expect(connected).toBe(150);
    expect(refusals).toHaveLength(200);
    for (const r of refusals) expect(r.statusCode).toBe(503);
    expect(refusals[0]!.body).toBe('SB_CONNECTION_LIMIT: this hub node holds its maximum of 150 connections (maxConnections); try again later or connect to another node.');

    // Full, not dead: the probes answer, negotiate refuses cleanly.
    expect(await get(`${hub.url}/healthz`)).toMatchObject({ status: 200, body: { status: 'ok' } });
    expect((await get(`${hub.url}/metrics`)).status).toBe(200);
    const negotiate = await get(`${hub.url}/hubs/chat/negotiate?negotiateVersion=1`, { method: 'POST' });
    expect(negotiate.status).toBe(503);
    expect(negotiate.text).toMatch(/^SB_CONNECTION_LIMIT: /);
    expect(jsonLines(hub.output()).some((l) => l['code'] === 'SB_CONNECTION_LIMIT' && l['level'] === 40)).toBe(true);

    // Room again once clients leave.
    raw.terminateAll();
    await expect.poll(async () => (await get(`${hub.url}/hubs/chat/negotiate?negotiateVersion=1`, { method: 'POST' })).status, { timeout: 5000 }).toBe(200);
    expect(await hub.stop()).toBe(0);
  });

  it('MAX_CONNECTIONS above what ulimit -n allows: kept, with a startup warning that says what to do', async () => {
    const hub = await startUnderUlimit(300, { MAX_CONNECTIONS: '1000' });
    started.push(hub);
    const warning = jsonLines(hub.output()).find((l) => l['level'] === 40 && typeof l['msg'] === 'string' && (l['msg'] as string).startsWith('MAX_CONNECTIONS=1000'));
    expect(warning, hub.output()).toMatchObject({ maxConnections: 1000, suggestedMaxConnections: 150, openFilesLimit: 300 });
    expect(warning!['msg']).toContain('Raise ulimit -n to at least 1256');
    expect(warning!['msg']).toContain('or lower MAX_CONNECTIONS to 150 or less');
    expect(await hub.stop()).toBe(0);
  });
});
