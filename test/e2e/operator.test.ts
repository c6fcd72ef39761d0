// The operator's view (the "Queue" panel) in real Chromium against real processes: a failed job
// retried from the queue completes; a burst of job changes renders the table at most ~10 times a
// second and ends on the right counts; no sideways page scrolling at 1280 and 390 px (the System
// panel filled); with authentication, an admin sees another user's job and a user does not.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connectJobs, type JobsConnection } from '@switchboard/client';
import type { JobUpdate } from '@switchboard/contracts';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '../faults/support.js';
import { startJobsDeployment, type JobsDeployment } from '../jobs/support.js';
import { CHROMIUM_PATH, hasChromium, launchChromium } from '../support/browser.js';
import { jobCard, openDashboard, screenshot, waitForJobState } from '../support/dashboard.js';
import { mintHs256, testJwtSecret } from '../support/jwt.js';
import { FORM_JOBS, enqueueThroughForm, openWithTypes, overflow, queueRow, showTab } from './operator-support.js';

const needChromium = () => {
  if (!hasChromium()) throw new Error(`Chromium not found at ${CHROMIUM_PATH}; install it with 'apt-get install -y chromium' (.ci/run does).`);
};

describe('the queue: retry from the operator\'s view, pushed and coalesced renders, layout', () => {
  let dep: JobsDeployment;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let node: JobsConnection;
  const dir = mkdtempSync(join(tmpdir(), 'sb-operator-'));

  beforeAll(async () => {
    needChromium();
    [dep, browser] = await Promise.all([startJobsDeployment({ env: { JOBS_MODULE: FORM_JOBS }, workers: [{ WORKER_CONCURRENCY: '8' }] }), launchChromium()]);
    context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    page = await openWithTypes(context, dep.hubA.url);
    node = connectJobs(dep.hubB.url, { reconnectDelays: false });
    await node.start();
  }, 30_000);
  afterAll(async () => {
    await node?.stop();
    await browser?.close();
    await dep?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('a job that failed for good is retried from the Failed tab and completes; the row shows where it ended', async () => {
    const flag = join(dir, 'fail-now');
    writeFileSync(flag, 'fail');
    const jobId = await enqueueThroughForm(page, 'flaky', { 'Flag file': flag });
    await waitForJobState(page, jobId, 'failed', 10_000);
    await showTab(page, 'Failed');
    const row = queueRow(page, jobId);
    await row.and(page.locator('[data-state="failed"]')).waitFor({ timeout: 3000 });
    expect(await row.locator('.op-error').textContent()).toBe(`the flag file ${flag} exists (failing on purpose, attempt 2)`);
    expect(await row.locator('.op-attempt').textContent()).toBe('2 of 2');
    expect(await row.locator('.op-where').textContent()).toBe('check 40%'); // where it ended, on a terminal row
    expect(await row.getByRole('button').allTextContents()).toEqual(['Retry', 'Remove']);
    expect(Number(await page.locator('#ops-states button[data-state="failed"] .count').textContent())).toBe(1);

    rmSync(flag);
    await row.getByRole('button', { name: `Retry flaky job ${jobId}`, exact: true }).click();
    await page.locator('#ops-status', { hasText: `Retried flaky job ${jobId}: it is queued for another attempt.` }).waitFor({ timeout: 5000 });
    // It leaves the Failed tab (pushed), and the card (still watched) shows the new attempt complete.
    await row.waitFor({ state: 'detached', timeout: 5000 });
    await waitForJobState(page, jobId, 'completed', 10_000);
    expect(await jobCard(page, jobId).locator('.job-result-value').textContent()).toBe('passed');
    await showTab(page, 'Completed');
    await row.and(page.locator('[data-state="completed"]')).waitFor({ timeout: 3000 });
    expect(await row.locator('.op-attempt').textContent()).toMatch(/^(3|1 of 2)$/); // a new attempt, however the queue counts it

    // Remove the finished job: it is gone from the list and from the hub.
    await row.getByRole('button', { name: `Remove flaky job ${jobId}`, exact: true }).click();
    await page.locator('#ops-status', { hasText: `Removed flaky job ${jobId}.` }).waitFor({ timeout: 5000 });
    await row.waitFor({ state: 'detached', timeout: 5000 });
    expect((await fetch(`${dep.hubA.url}/api/jobs/${jobId}`, { signal: AbortSignal.timeout(3000) })).status).toBe(404);
  }, 30_000);

  it('cancels a delayed job from the queue', async () => {
    const { jobId } = await node.enqueue('slow', { ms: 10 }, { delayMs: 60_000 });
    await showTab(page, 'Delayed');
    const row = queueRow(page, jobId);
    await row.waitFor({ timeout: 3000 });
    await row.getByRole('button', { name: `Cancel slow job ${jobId}`, exact: true }).click();
    await page.locator('#ops-status', { hasText: `Cancelled slow job ${jobId}.` }).waitFor({ timeout: 5000 });
    await row.waitFor({ state: 'detached', timeout: 5000 });
    const snap = (await (await fetch(`${dep.hubA.url}/api/jobs/${jobId}`, { signal: AbortSignal.timeout(3000) })).json()) as JobUpdate;
    expect(snap.state).toBe('cancelled');
  }, 15_000);

  it('a burst of 1,000 jobs: the table renders at most ~10 times a second and ends on the true counts', async () => {
    await showTab(page, 'All');
    const renders = async () => Number((await page.getAttribute('#operator', 'data-renders')) ?? 0);
    const before = await node.list({ name: 'tick' });
    const r0 = await renders();
    const t0 = Date.now();
    // Every render is timed in the page, to check the rate in any second, not just on average.
    await page.evaluate(() => {
      const w = globalThis as any;
      w.__renderTimes = [];
      new w.MutationObserver(() => w.__renderTimes.push(w.performance.now())).observe(w.document.getElementById('operator'), { attributes: true, attributeFilter: ['data-renders'] });
    });
    const total = 1000;
    for (let i = 0; i < total; i += 100) await Promise.all(Array.from({ length: 100 }, (_, k) => node.enqueue('tick', { n: i + k })));
    const done = before.counts.completed + total;
    await waitFor('the Completed tab to count every tick job', async () => Number((await page.locator('#ops-states button[data-state="completed"] .count').textContent())?.replace(/,/g, '')) >= done, 30_000, 50);
    const seconds = (Date.now() - t0) / 1000;
    const rendered = (await renders()) - r0;
    const times: number[] = await page.evaluate(() => (globalThis as any).__renderTimes);
    const worstSecond = Math.max(0, ...times.map((t) => times.filter((u) => u >= t && u < t + 1000).length));
    expect(rendered, `${rendered} renders in ${seconds.toFixed(1)} s`).toBeGreaterThan(1); // it did follow the burst
    expect(rendered).toBeLessThanOrEqual(Math.ceil(seconds * 10) + 2);
    expect(worstSecond, `render times: ${times.map((t) => t.toFixed(0)).join(',')}`).toBeLessThanOrEqual(11);
    // The last change is shown: the counts are the hub's.
    const after = await node.list({ name: 'tick' });
    expect(after.counts.completed).toBe(done);
    expect(Number((await page.locator('#ops-states button[data-state="completed"] .count').textContent())!.replace(/,/g, ''))).toBeGreaterThanOrEqual(after.counts.completed);
  }, 60_000);

  it('pages newest first: Older and Newer by cursor, filtered by job type', async () => {
    await page.getByLabel('Filter by job type', { exact: true }).selectOption('tick');
    await showTab(page, 'Completed');
    await page.locator('#ops-caption', { hasText: /^Completed jobs named tick 1–20 of 1,000, newest first$/ }).waitFor({ timeout: 3000 });
    const first = await page.locator('#ops-table tbody tr').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-job-id')));
    expect(first).toHaveLength(20);
    expect(await page.getByRole('button', { name: 'Newer', exact: true }).isDisabled()).toBe(true);
    await page.getByRole('button', { name: 'Older', exact: true }).click();
    await page.locator('#ops-caption', { hasText: /^Completed jobs named tick 21–40 of 1,000/ }).waitFor({ timeout: 3000 });
    const second = await page.locator('#ops-table tbody tr').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-job-id')));
    expect(second.filter((id) => first.includes(id))).toEqual([]);
    const hubPage = await node.list({ state: 'completed', name: 'tick', limit: 40 });
    expect([...first, ...second]).toEqual(hubPage.jobs.map((j) => j.jobId));
    await page.getByRole('button', { name: 'Newer', exact: true }).click();
    await page.locator('#ops-caption', { hasText: /^Completed jobs named tick 1–20 / }).waitFor({ timeout: 3000 });
    await page.getByLabel('Filter by job type', { exact: true }).selectOption('');
    await showTab(page, 'All');
  }, 15_000);

  it('no sideways scrolling at 1280 px and 390 px: the System tables fit at 1280, wide tables scroll inside their panel', async () => {
    await page.waitForSelector('#system-status[data-state="live"]', { timeout: 10_000 });
    await page.waitForFunction(() => (globalThis as any).document.querySelectorAll('#nodes-table tbody tr').length === 2, undefined, { timeout: 10_000 });
    expect(await page.locator('#ops-table tbody tr').count()).toBeGreaterThan(0);
    const wide = await overflow(page);
    expect(wide.scrollWidth).toBeLessThanOrEqual(wide.innerWidth);
    expect(wide.innerWidth).toBe(1280);
    expect(wide.cutTables).toEqual([]); // "By transport" and "Threads" are not cut off
    await screenshot(page, 'dashboard-queue-1280');
    const phone = await browser.newContext({ viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true });
    try {
      const p = await openWithTypes(phone, dep.hubA.url);
      await p.waitForSelector('#system-status[data-state="live"]', { timeout: 10_000 });
      await p.waitForSelector('#ops-table tbody tr', { timeout: 5000 });
      const narrow = await overflow(p);
      expect(narrow.innerWidth).toBe(390);
      expect(narrow.scrollWidth).toBeLessThanOrEqual(390);
      expect(narrow.cutTables).toContain('ops-table'); // wider than a phone: it scrolls inside its panel ...
      expect(narrow.scrollingWraps).toEqual(expect.arrayContaining(['nodes-table', 'workers-table', 'ops-table'])); // ... as every table wrap can
      await screenshot(p, 'dashboard-queue-390');
    } finally {
      await phone.close();
    }
  }, 30_000);
});

describe('the queue with authentication: admins see every job, users their own', () => {
  const secret = testJwtSecret();
  let dep: JobsDeployment;
  let browser: Browser;

  beforeAll(async () => {
    needChromium();
    [dep, browser] = await Promise.all([startJobsDeployment({ env: { JOBS_MODULE: FORM_JOBS }, hubEnv: { AUTH_JWT_SECRET: secret }, workers: [{}] }), launchChromium()]);
  }, 30_000);
  afterAll(async () => {
    await browser?.close();
    await dep?.stop();
  });

  /** A dashboard whose tab holds `token` (as the Access token field would keep it). */
  async function pageAs(token: string): Promise<Page> {
    const context = await browser.newContext();
    await context.addInitScript((t) => (globalThis as any).sessionStorage.setItem('switchboard.accessToken', t), token);
    return openDashboard(context, dep.hubA.url);
  }

  it('alice enqueues; bob\'s queue does not list it, the admin\'s does (with its owner)', async () => {
    const [alice, bob, admin] = await Promise.all([mintHs256(secret, 'alice'), mintHs256(secret, 'bob'), mintHs256(secret, 'root', { roles: ['admin'] })]);
    const asAlice = connectJobs(dep.hubB.url, { reconnectDelays: false, accessTokenFactory: () => alice });
    await asAlice.start();
    try {
      const { jobId: alicesJob } = await asAlice.enqueue('slow', { ms: 0 });
      const [bobPage, adminPage] = await Promise.all([pageAs(bob), pageAs(admin)]);
      const bobsJob = await enqueueThroughForm(bobPage, 'slow', { Ms: '0' });
      for (const p of [bobPage, adminPage]) await queueRow(p, bobsJob).and(p.locator('[data-state="completed"]')).waitFor({ timeout: 10_000 });
      await queueRow(adminPage, alicesJob).waitFor({ timeout: 5000 });
      expect(await queueRow(adminPage, alicesJob).locator('.op-owner').textContent()).toBe('alice');
      expect(await queueRow(adminPage, bobsJob).locator('.op-owner').textContent()).toBe('bob');
      expect(await adminPage.locator('#ops-states button[data-state="all"] .count').textContent()).toBe('2');
      // Bob: his own job only, and counts of his own jobs.
      expect(await queueRow(bobPage, alicesJob).count()).toBe(0);
      expect(await bobPage.locator('#ops-table tbody tr').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-job-id')))).toEqual([bobsJob]);
      expect(await bobPage.locator('#ops-states button[data-state="all"] .count').textContent()).toBe('1');
      await screenshot(adminPage, 'dashboard-queue-admin');
    } finally {
      await asAlice.stop();
    }
  }, 30_000);
});
