import { randomBytes } from 'node:crypto';
import { connectChat } from '@switchboard/client';
import type { JobUpdate } from '@switchboard/contracts';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectedHash } from '../jobs/support.js';
import { CHROMIUM_PATH, hasChromium, launchChromium } from '../support/browser.js';
import { enqueueHash, jobCard, openDashboard, progressOf, recordedProgress, recordProgress, screenshot, waitForJobState } from '../support/dashboard.js';
import { startNodeProcess, type StartedProcess } from '../support/processes.js';
import { startRedis, uniquePrefix, type PrivateRedis } from '../support/redis.js';
import { startRoundRobinProxy, type RoundRobinProxy } from '../support/tcp-proxy.js';

/** Polls `fn` until it returns a value (not undefined) or `timeoutMs` passes. */
async function until<T>(what: string, timeoutMs: number, fn: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v !== undefined) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms${last ? ` (last error: ${String(last)})` : ''}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function snapshotVia(base: string, jobId: string): Promise<JobUpdate> {
  const res = await fetch(`${base}/api/jobs/${jobId}`, { signal: AbortSignal.timeout(3000) });
  if (res.status !== 200) throw new Error(`GET /api/jobs/${jobId}: ${res.status}`);
  return (await res.json()) as JobUpdate;
}

// The whole system as deployed: a private Redis, two hub node processes behind ONE URL (a
// round-robin TCP proxy, no sticky sessions), a worker process, and the dashboard in Chromium.
describe('dashboard in real Chromium (two hub nodes behind one URL, a worker)', () => {
  let redis: PrivateRedis;
  const hubs: StartedProcess[] = [];
  let worker: StartedProcess;
  let proxy: RoundRobinProxy;
  let browser: Browser;
  let main: BrowserContext;
  let page: Page;
  /** Whether the hub nodes serve /hubs/system (it is being built alongside the dashboard). */
  let systemHub = false;

  beforeAll(async () => {
    if (!hasChromium()) throw new Error(`Chromium not found at ${CHROMIUM_PATH}; install it with 'apt-get install -y chromium' (.ci/run does).`);
    redis = await startRedis();
    const common = { REDIS_URL: redis.url, REDIS_PREFIX: uniquePrefix('web'), LOG_LEVEL: 'warn' };
    const hubEnv = { ...common, PORT: '0', HOST: '127.0.0.1', HUB_SECRET: randomBytes(32).toString('base64') };
    const started = await Promise.all([
      startNodeProcess('apps/hub/dist/main.js', hubEnv),
      startNodeProcess('apps/hub/dist/main.js', hubEnv),
      startNodeProcess('apps/worker/dist/main.js', { ...common, POOL_SIZE: '2', WORKER_CONCURRENCY: '2' }, 15_000, /worker ready/),
      launchChromium(),
    ]);
    hubs.push(started[0], started[1]);
    worker = started[2];
    browser = started[3];
    proxy = await startRoundRobinProxy(hubs.map((h) => h.url));
    const negotiate = await fetch(`${proxy.url}/hubs/system/negotiate?negotiateVersion=1`, { method: 'POST' });
    systemHub = negotiate.status === 200;
    main = await browser.newContext();
    page = await openDashboard(main, proxy.url);
  }, 30_000);
  afterAll(async () => {
    await browser?.close();
    await proxy?.close();
    await Promise.allSettled([worker?.stop('SIGTERM', 3000), ...hubs.map((h) => h.stop('SIGTERM', 3000))]);
    await redis?.stop();
  });

  it('shows the transport and its hub connections', async () => {
    expect(await page.textContent('#transport')).toBe('WebSockets');
    expect(await page.getAttribute('#conn-jobs', 'data-state')).toBe('connected');
    expect(await page.getAttribute('#conn-chat', 'data-state')).toBe('connected');
    expect(await page.textContent('#conn-jobs')).toBe('connected (WebSockets)');
  });

  it('enqueues a hash job by keyboard: the bar advances and the job ends completed with the digest', async () => {
    const rounds = 400_000;
    const digest = expectedHash(rounds); // before the job: it blocks this process, which runs the proxy
    await recordProgress(page);
    // Keyboard: from the Rounds field, Tab reaches the folded Options, then the Enqueue button.
    await page.getByLabel('Rounds', { exact: true }).focus();
    await page.keyboard.press('Tab');
    expect(await page.evaluate(() => (globalThis as any).document.activeElement?.textContent)).toBe('Options');
    await page.keyboard.press('Tab');
    expect(await page.evaluate(() => (globalThis as any).document.activeElement?.id)).toBe('enqueue-button');
    const jobId = await enqueueHash(page, rounds);
    await waitForJobState(page, jobId, 'completed', 20_000);
    const card = jobCard(page, jobId);
    expect(await card.locator('.job-result-value').textContent()).toBe(digest);
    expect(await progressOf(page, jobId)).toBe(100);
    const seen = await recordedProgress(page, jobId);
    expect(seen.some((p) => p > 0 && p < 100), `progress values seen: ${seen.join(',')}`).toBe(true);
    expect(seen).toEqual([...seen].sort((a, b) => a - b)); // never goes back
    expect(await card.locator('.job-stage').textContent()).toBe('hashing');
    expect(await card.locator('.job-attempt').textContent()).toBe('1');
    expect(await card.locator('.job-duration').textContent()).toMatch(/^\d+(\.\d)? (ms|s)$/);
    expect(await card.getByRole('button', { name: /^Cancel/ }).isVisible()).toBe(false);
    // The page measures its live updates (worker write → this page; one machine, one clock): the
    // line under the heading counts them and gives p50 / p99 within a second.
    const delay = await until('the live update delay line', 3000, async () => {
      const text = (await page.textContent('#update-delay')) ?? '';
      return /received;/.test(text) ? text : undefined;
    });
    const m = /^Live updates: (\d+) received; worker → this page p50 (\d+) ms, p99 (\d+) ms \(last (\d+)\)\.$/.exec(delay);
    expect(m, delay).not.toBeNull();
    const [received, p50, p99] = [Number(m![1]), Number(m![2]), Number(m![3])];
    expect(received).toBeGreaterThanOrEqual(2); // at least active and completed were pushed
    expect(p50).toBeLessThanOrEqual(p99);
    expect(p99).toBeLessThan(5000);
    await screenshot(page, 'dashboard-completed');
  }, 30_000);

  it('cancels a long job mid-way (keyboard on the Cancel button) and shows cancelled', async () => {
    const jobId = await enqueueHash(page, 50_000_000);
    await page.waitForSelector(`li.job[data-job-id="${jobId}"][data-state="active"] [role="progressbar"]:not([aria-valuenow="0"])`, { timeout: 15_000 });
    const cancel = jobCard(page, jobId).getByRole('button', { name: /^Cancel hash job/ });
    await cancel.focus();
    await page.keyboard.press('Enter');
    await waitForJobState(page, jobId, 'cancelled', 10_000);
    const progress = await progressOf(page, jobId);
    expect(progress).toBeGreaterThan(0);
    expect(progress).toBeLessThan(100);
    expect(await page.textContent('#job-announcer')).toMatch(/cancelled/);
    expect((await snapshotVia(proxy.url, jobId)).state).toBe('cancelled');
  }, 30_000);

  it('shows validation messages next to the fields (the form generated from jobTypes) and enqueues nothing', async () => {
    const before = await page.locator('li.job').count();
    await page.getByLabel('Rounds', { exact: true }).fill('0');
    await page.getByRole('button', { name: 'Enqueue', exact: true }).click();
    expect(await page.textContent('#field-rounds-error')).toBe('Rounds must be from 1 to 50,000,000; got 0.');
    expect(await page.getAttribute('#field-rounds', 'aria-invalid')).toBe('true');
    expect(await page.evaluate(() => (globalThis as any).document.activeElement?.id)).toBe('field-rounds');
    await page.getByLabel('Job type', { exact: true }).selectOption('pipeline');
    await page.getByLabel('Items', { exact: true }).fill('12.5');
    await page.getByLabel('Fail attempts', { exact: true }).fill('11');
    await page.getByRole('button', { name: 'Enqueue', exact: true }).click();
    expect(await page.textContent('#field-items-error')).toBe('Items must be a whole number from 1 to 1,000,000; got 12.5.');
    expect(await page.textContent('#field-failAttempts-error')).toBe('Fail attempts must be from 1 to 10; got 11.');
    expect(await page.textContent('#enqueue-status')).toBe('Please correct the 2 marked fields.');
    // failAtStage is a select of the schema's enum, with "none" for the optional field.
    expect(await page.getByLabel('Fail at stage', { exact: true }).locator('option').allTextContents()).toEqual(['none', 'fetch', 'transform', 'publish']);
    expect(await page.locator('li.job').count()).toBe(before);
    await page.getByLabel('Job type', { exact: true }).selectOption('hash');
  });

  it('chat: a JSON page, a MessagePack page and a Node client (libs/client) talk through the load balancer', async () => {
    const other = await openDashboard(await browser.newContext(), proxy.url, '?protocol=messagepack');
    const node = connectChat(proxy.url, { reconnectDelays: false });
    const heardByNode: string[] = [];
    node.onMessage((user, text) => heardByNode.push(`${user}: ${text}`));
    try {
      await node.start();
      const expected: string[] = [];
      const send = async (p: Page, user: string, text: string) => {
        await p.getByLabel('Name', { exact: true }).fill(user);
        await p.getByLabel('Message', { exact: true }).fill(text);
        await p.getByLabel('Message', { exact: true }).press('Enter');
        expected.push(`${user}: ${text}`);
        for (const q of [page, other]) await q.locator('#chat-messages li').nth(expected.length - 1).waitFor({ timeout: 5000 });
      };
      await send(page, 'ana', 'hello from json');
      await send(other, 'bo', 'hello from msgpack');
      await node.send('node', 'hello from node');
      expected.push('node: hello from node');
      for (const q of [page, other]) await q.locator('#chat-messages li').nth(2).waitFor({ timeout: 5000 });
      for (const q of [page, other]) expect(await q.locator('#chat-messages li').allTextContents()).toEqual(expected);
      await until('the Node client hears all three', 5000, async () => (heardByNode.length >= 3 ? true : undefined));
      expect(heardByNode).toEqual(expected);
    } finally {
      await node.stop();
      await other.context().close();
    }
  }, 20_000);

  it('shows live system figures pushed by the system hub, never polled (or "unavailable" without it)', async () => {
    if (!systemHub) {
      // The hub nodes have no /hubs/system yet: the panel must say so, not spin.
      expect(await page.getAttribute('#conn-system', 'data-state')).toBe('unavailable');
      expect(await page.textContent('#system-status')).toMatch(/^unavailable/);
      expect(await page.textContent('#node')).toBe('unavailable');
      return;
    }
    // A fresh page, with its system hub WebSocket frames recorded from the start.
    const p = await main.newPage();
    const sent: string[] = [];
    const pushes: string[] = [];
    p.on('websocket', (ws) => {
      if (!ws.url().includes('/hubs/system')) return;
      ws.on('framesent', (f) => sent.push(String(f.payload)));
      ws.on('framereceived', (f) => {
        if (String(f.payload).includes('"target":"systemStats"')) pushes.push(String(f.payload));
      });
    });
    try {
      await p.goto(`${proxy.url}/`);
      await p.waitForSelector('#system-status[data-state="live"]', { timeout: 10_000 });
      await p.waitForFunction(() => (globalThis as any).document.getElementById('fig-nodes')?.textContent === '2', undefined, { timeout: 10_000 });
      expect(await p.textContent('#fig-workers')).toBe('1');
      const pids = hubs.map((h) => String(h.child.pid));
      expect(pids).toContain(await p.getAttribute('#node', 'data-pid'));
      expect((await p.locator('#nodes-table tbody tr').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-pid')))).sort()).toEqual([...pids].sort());
      expect(await p.locator('#workers-table tbody tr').getAttribute('data-pid')).toBe(String(worker.child.pid));
      // Pushed, not polled: several systemStats pushes arrive, and the page asked for stats once.
      await until('three systemStats pushes', 6000, async () => (pushes.length >= 3 ? true : undefined));
      expect(sent.filter((f) => f.includes('"target":"stats"'))).toHaveLength(1);
      // The backplane delay column: the leader's pushes reach the other node over Redis every
      // second, so within a few pushes one row shows "p50 / p99 ms" (a dash where nothing arrived).
      const delayCells = () => p.locator('#nodes-table tbody tr td:last-child').allTextContents();
      const shown = await until('a node row with a backplane delay', 6000, async () => ((await delayCells()).some((t) => /^\d+(\.\d+)? \/ \d+(\.\d+)? ms$/.test(t)) ? delayCells() : undefined));
      for (const t of shown) expect(t).toMatch(/^(–|\d+(\.\d+)? \/ \d+(\.\d+)? ms)$/);
    } finally {
      await p.close();
    }
  }, 20_000);

  it('fits a 375 px wide phone screen: the main controls are visible and nothing scrolls sideways', async () => {
    const phone = await browser.newContext({ viewport: { width: 375, height: 812 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true });
    try {
      const p = await openDashboard(phone, proxy.url);
      const controls = [p.locator('#status'), p.getByLabel('Job type', { exact: true }), p.getByLabel('Rounds', { exact: true }), p.getByRole('button', { name: 'Enqueue', exact: true }), p.getByLabel('Message', { exact: true }), p.getByRole('button', { name: 'Send', exact: true })];
      for (const c of controls) {
        await c.scrollIntoViewIfNeeded();
        expect(await c.isVisible()).toBe(true);
        const box = (await c.boundingBox())!;
        expect(box.x).toBeGreaterThanOrEqual(0);
        expect(box.x + box.width).toBeLessThanOrEqual(375);
        expect(box.height).toBeGreaterThanOrEqual(20);
      }
      expect((await p.getByRole('button', { name: 'Enqueue', exact: true }).boundingBox())!.height).toBeGreaterThanOrEqual(44); // touch target
      expect(await p.evaluate(() => (globalThis as any).document.documentElement.scrollWidth)).toBeLessThanOrEqual(375);
      await p.evaluate(() => (globalThis as any).scrollTo(0, 0));
      await screenshot(p, 'dashboard-375px');
    } finally {
      await phone.close();
    }
  }, 20_000);

  it('survives the SIGKILL of its hub node: reconnects through the other node and shows a job that completed meanwhile', async () => {
    // Open a page while node B is drained, so all its connections are on node A.
    const context = await browser.newContext();
    proxy.setEnabled(1, false);
    let victimPage: Page;
    try {
      victimPage = await openDashboard(context, proxy.url);
      if (systemHub) await victimPage.waitForSelector('#node[data-pid]', { timeout: 10_000 });
    } finally {
      proxy.setEnabled(1, true);
    }
    const p = victimPage;
    // The node this page shows (whoami on the system hub) is the one to kill.
    let victim = hubs[0]!;
    if (systemHub) {
      const pid = Number(await p.getAttribute('#node', 'data-pid'));
      victim = hubs.find((h) => h.child.pid === pid)!;
      expect(victim, `the page shows pid ${pid}, not one of the hub nodes`).toBe(hubs[0]);
    }
    const survivor = hubs.find((h) => h !== victim)!;

    const jobId = await enqueueHash(p, 1_000_000); // ~3 s of hashing
    await p.waitForSelector(`li.job[data-job-id="${jobId}"][data-state="active"]`, { timeout: 10_000 });

    // Kill the node; keep the load balancer closed so the page stays down while the job ends.
    proxy.setEnabled(1, false);
    victim.child.kill('SIGKILL');
    await p.waitForSelector('#status[data-state="reconnecting"]', { timeout: 10_000 });
    expect(await p.textContent('#status')).toMatch(/reconnecting/i);
    await screenshot(p, 'dashboard-reconnecting');
    const done = await until('the job completes (asked on the surviving node directly)', 20_000, async () => {
      const s = await snapshotVia(survivor.url, jobId);
      return s.state === 'completed' ? s : undefined;
    });
    // The page missed the live terminal update (it had no connection) ...
    expect(await jobCard(p, jobId).getAttribute('data-state')).toBe('active');
    expect(await p.getAttribute('#status', 'data-state')).toBe('reconnecting');

    // ... and gets the final state by re-watching once it is back, through the other node.
    proxy.setEnabled(1, true);
    await p.waitForSelector('#status[data-state="connected"]', { timeout: 15_000 });
    await waitForJobState(p, jobId, 'completed', 10_000);
    expect(await jobCard(p, jobId).locator('.job-result-value').textContent()).toBe(done.result);
    expect(await progressOf(p, jobId)).toBe(100);
    if (systemHub) await p.waitForSelector(`#node[data-pid="${survivor.child.pid}"]`, { timeout: 15_000 });
    expect(proxy.backends[0]!.open).toBe(0);
    await screenshot(p, 'dashboard-recovered');

    // A reload watches the remembered jobs again (localStorage) and shows their final state.
    await p.reload();
    await p.waitForSelector('#status[data-state="connected"]', { timeout: 10_000 });
    await waitForJobState(p, jobId, 'completed', 10_000);
    expect(await p.locator('li.job').count()).toBe(1);
    await context.close();
  }, 45_000);
});
