import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { BrowserContext, Locator, Page } from 'playwright-core';
import { REPO_ROOT } from './processes.js';

/** Screenshots of browser tests land here (gitignored). */
export const ARTIFACTS_DIR = join(REPO_ROOT, 'test', 'artifacts');

export async function screenshot(page: Page, name: string, fullPage = true): Promise<string> {
  mkdirSync(ARTIFACTS_DIR, { recursive: true });
  const path = join(ARTIFACTS_DIR, `${name}.png`);
  await page.screenshot({ path, fullPage });
  return path;
}

/** Opens the dashboard (served by the hub at `/`) and waits until its jobs and chat connections are up. */
export async function openDashboard(context: BrowserContext, baseUrl: string, query = '', timeoutMs = 10_000): Promise<Page> {
  const page = await context.newPage();
  const problems: string[] = [];
  page.on('pageerror', (err) => problems.push(err.message));
  await page.goto(`${baseUrl}/${query}`, { timeout: timeoutMs });
  try {
    await page.waitForSelector('#status[data-state="connected"]', { timeout: timeoutMs });
  } catch (err) {
    const status = await page.textContent('#status').catch(() => '?');
    throw new Error(`the dashboard did not connect within ${timeoutMs} ms (status: ${status}; page errors: ${problems.join('; ') || 'none'})`, { cause: err });
  }
  return page;
}

export function jobCard(page: Page, jobId: string): Locator {
  return page.locator(`li.job[data-job-id="${jobId}"]`);
}

/** Enqueues a hash job through the form, by keyboard (type, Enter); resolves with its id. */
export async function enqueueHash(page: Page, rounds: number): Promise<string> {
  await page.getByLabel('Job type', { exact: true }).selectOption('hash');
  const field = page.getByLabel('Rounds', { exact: true });
  await field.fill(String(rounds));
  await field.press('Enter');
  const status = page.locator('#enqueue-status');
  await status.filter({ hasText: /Enqueued hash job \S+\.|Could not enqueue/ }).waitFor({ timeout: 10_000 });
  const text = (await status.textContent()) ?? '';
  const m = /Enqueued hash job (\S+)\./.exec(text);
  if (!m) throw new Error(`enqueue failed: ${text}`);
  return m[1]!;
}

/** Waits until a job's card shows `state`; the error lists what it shows instead. */
export async function waitForJobState(page: Page, jobId: string, state: string, timeoutMs: number): Promise<void> {
  try {
    await page.waitForSelector(`li.job[data-job-id="${jobId}"][data-state="${state}"]`, { timeout: timeoutMs });
  } catch (err) {
    const shown = await jobCard(page, jobId).getAttribute('data-state', { timeout: 1000 }).catch(() => 'no card');
    throw new Error(`job ${jobId} did not show '${state}' within ${timeoutMs} ms; it shows '${shown}'`, { cause: err });
  }
}

/** The aria-valuenow of a job's progress bar. */
export async function progressOf(page: Page, jobId: string): Promise<number> {
  return Number(await jobCard(page, jobId).getByRole('progressbar').getAttribute('aria-valuenow'));
}

/**
 * Records every aria-valuenow a job's progress bar takes (a MutationObserver in the page), so a
 * test can check that the bar advanced through intermediate values rather than jumping to 100.
 * Mutations are delivered in batches, so each record's old value is what is kept; the current
 * value is added when read.
 */
export async function recordProgress(page: Page): Promise<void> {
  // Runs in the page (this project has no DOM types, hence `any`).
  await page.evaluate(() => {
    const w = globalThis as any;
    const seen: Record<string, number[]> = {};
    w.__progress = seen;
    new w.MutationObserver((records: any[]) => {
      for (const r of records) {
        const id = r.target.closest('li.job')?.getAttribute('data-job-id');
        if (id && r.target.getAttribute('role') === 'progressbar') (seen[id] ??= []).push(Number(r.oldValue));
      }
    }).observe(w.document.getElementById('jobs'), { subtree: true, attributes: true, attributeOldValue: true, attributeFilter: ['aria-valuenow'] });
  });
}

/** Every value the job's bar showed since `recordProgress`, the current one last. */
export async function recordedProgress(page: Page, jobId: string): Promise<number[]> {
  return page.evaluate((id) => {
    const w = globalThis as any;
    const now = w.document.querySelector(`li.job[data-job-id="${id}"] [role="progressbar"]`)?.getAttribute('aria-valuenow');
    return [...((w.__progress as Record<string, number[]>)[id] ?? []), ...(now == null ? [] : [Number(now)])];
  }, jobId);
}
