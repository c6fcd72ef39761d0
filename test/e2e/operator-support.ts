// Helpers of the dashboard's form and queue tests (form.test.ts, operator.test.ts).
import type { BrowserContext, Page } from 'playwright-core';
import { openDashboard } from '../support/dashboard.js';

/** The job set of these tests (every field kind, a slow job, a flaky job, an instant job). */
export const FORM_JOBS = 'test/e2e/fixtures/form-jobs.mjs';

/** Opens the dashboard with the form generated (the job types loaded). */
export async function openWithTypes(context: BrowserContext, url: string): Promise<Page> {
  const page = await openDashboard(context, url);
  await page.waitForSelector('#job-type option', { state: 'attached', timeout: 10_000 });
  return page;
}

/** Chooses a job type, fills fields by label (text), checks the named checkboxes, opens Options when asked, submits; the job id. */
export async function enqueueThroughForm(page: Page, name: string, fields: Record<string, string>, options: { delaySeconds?: number; checks?: string[] } = {}): Promise<string> {
  await page.getByLabel('Job type', { exact: true }).selectOption(name);
  for (const [label, value] of Object.entries(fields)) {
    const control = page.locator('#job-fields').getByLabel(label, { exact: true });
    if ((await control.evaluate((e) => e.tagName)) === 'SELECT') await control.selectOption({ label: value });
    else await control.fill(value);
  }
  for (const label of options.checks ?? []) await page.locator('#job-fields').getByLabel(label, { exact: true }).check();
  if (options.delaySeconds !== undefined) {
    if ((await page.getAttribute('#enqueue-options', 'open')) === null) await page.getByText('Options', { exact: true }).click();
    await page.getByLabel('Delay (seconds)', { exact: true }).fill(String(options.delaySeconds));
  }
  await page.getByRole('button', { name: 'Enqueue', exact: true }).click();
  const status = page.locator('#enqueue-status');
  await status.filter({ hasText: new RegExp(`Enqueued ${name} job \\S+\\.|Could not enqueue|Please correct`) }).waitFor({ timeout: 10_000 });
  const text = (await status.textContent()) ?? '';
  const m = new RegExp(`Enqueued ${name} job (\\S+)\\.`).exec(text);
  if (!m) throw new Error(`enqueue failed: ${text}`);
  if (options.delaySeconds !== undefined) await page.getByLabel('Delay (seconds)', { exact: true }).fill('');
  return m[1]!;
}

/** The queue's row of a job. */
export function queueRow(page: Page, jobId: string) {
  return page.locator(`#ops-table tbody tr[data-job-id="${jobId}"]`);
}

/** Shows one state tab of the queue ("All", "Waiting", "Failed", …). */
export async function showTab(page: Page, label: string): Promise<void> {
  const tab = page.locator('#ops-states button', { hasText: new RegExp(`^${label} `) });
  await tab.click();
  await page.locator('#ops-states button[aria-pressed="true"]', { hasText: new RegExp(`^${label} `) }).waitFor({ timeout: 2000 });
}

/**
 * Records every data-state a job's card and queue row take (MutationObservers in the page, as
 * the bar's values are recorded in support/dashboard.ts), so a test sees states that came and went.
 */
export async function recordStates(page: Page, jobId: string): Promise<void> {
  await page.evaluate((id) => {
    const w = globalThis as any;
    const seen: { card: string[]; row: string[] } = { card: [], row: [] };
    (w.__states ??= {})[id] = seen;
    const note = (list: string[], state: string | null) => {
      if (state && list[list.length - 1] !== state) list.push(state);
    };
    const card = () => w.document.querySelector(`li.job[data-job-id="${id}"]`);
    const row = () => w.document.querySelector(`#ops-table tr[data-job-id="${id}"]`);
    note(seen.card, card()?.getAttribute('data-state') ?? null);
    note(seen.row, row()?.getAttribute('data-state') ?? null);
    new w.MutationObserver(() => {
      note(seen.card, card()?.getAttribute('data-state') ?? null);
      note(seen.row, row()?.getAttribute('data-state') ?? null);
    }).observe(w.document.body, { subtree: true, childList: true, attributes: true, attributeFilter: ['data-state'] });
  }, jobId);
}

export async function recordedStates(page: Page, jobId: string): Promise<{ card: string[]; row: string[] }> {
  return page.evaluate((id) => (globalThis as any).__states[id], jobId);
}

/** Whether the page scrolls sideways, and which System/queue tables are wider than their panel. */
export async function overflow(page: Page): Promise<{ scrollWidth: number; innerWidth: number; cutTables: string[]; scrollingWraps: string[] }> {
  return page.evaluate(() => {
    const w = globalThis as any;
    const wraps = [...w.document.querySelectorAll('.table-wrap')] as any[];
    const name = (e: any) => e.querySelector('table')?.id ?? '?';
    return {
      scrollWidth: w.document.documentElement.scrollWidth,
      innerWidth: w.innerWidth,
      cutTables: wraps.filter((e) => e.scrollWidth > e.clientWidth).map(name),
      scrollingWraps: wraps.filter((e) => w.getComputedStyle(e).overflowX === 'auto').map(name),
    };
  });
}
