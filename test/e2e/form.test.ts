// The enqueue form generated from jobTypes() in real Chromium, against two hub nodes and a worker
// running a job set with every field kind (fixtures/form-jobs.mjs, as JOBS_MODULE): the controls
// the schema asks for, messages in the page before sending, the hub's refusal verbatim, a result
// as collapsible JSON, and a delayed job seen delayed (with its due time), active, completed.
import { connectJobs, hubErrorMessage, type JobsConnection } from '@switchboard/client';
import type { JobUpdate } from '@switchboard/contracts';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startJobsDeployment, type JobsDeployment } from '../jobs/support.js';
import { CHROMIUM_PATH, hasChromium, launchChromium } from '../support/browser.js';
import { jobCard, screenshot, waitForJobState } from '../support/dashboard.js';
import { FORM_JOBS, enqueueThroughForm, openWithTypes, queueRow, recordStates, recordedStates, showTab } from './operator-support.js';

describe('the enqueue form generated from the job set (every field kind) and a delayed job', () => {
  let dep: JobsDeployment;
  let browser: Browser;
  let page: Page;
  let node: JobsConnection;

  beforeAll(async () => {
    if (!hasChromium()) throw new Error(`Chromium not found at ${CHROMIUM_PATH}; install it with 'apt-get install -y chromium' (.ci/run does).`);
    [dep, browser] = await Promise.all([startJobsDeployment({ env: { JOBS_MODULE: FORM_JOBS }, workers: [{ WORKER_CONCURRENCY: '4' }] }), launchChromium()]);
    page = await openWithTypes(await browser.newContext({ viewport: { width: 1280, height: 900 } }), dep.hubA.url);
    node = connectJobs(dep.hubB.url, { reconnectDelays: false });
    await node.start();
  }, 30_000);
  afterAll(async () => {
    await node?.stop();
    await browser?.close();
    await dep?.stop();
  });

  const field = (label: string) => page.locator('#job-fields').getByLabel(label, { exact: true });

  it('shows a control per field kind: numbers with min/max/step, an enum select, pattern and length, a checkbox, optional, default, description, JSON editors', async () => {
    await page.getByLabel('Job type', { exact: true }).selectOption('kinds');
    expect(await page.locator('#job-type option:checked').textContent()).toBe('Every field kind (kinds)');
    expect(await page.textContent('#job-type-description')).toBe('Echoes its data back, defaults filled in. Stages: echo; 1 attempt.');
    const attrs = (label: string) => field(label).evaluate((e: any) => ({ tag: e.tagName, type: e.type, min: e.min, max: e.max, step: e.step, placeholder: e.placeholder }));
    expect(await attrs('Count')).toEqual({ tag: 'INPUT', type: 'number', min: '1', max: '20', step: '1', placeholder: '' });
    expect(await attrs('Ratio')).toEqual({ tag: 'INPUT', type: 'number', min: '0', max: '10', step: '0.25', placeholder: '' });
    expect(await attrs('Code')).toMatchObject({ tag: 'INPUT', type: 'text' });
    expect(await attrs('Loud')).toMatchObject({ tag: 'INPUT', type: 'checkbox' });
    expect(await attrs('Size')).toMatchObject({ type: 'number', placeholder: '10' });
    expect(await attrs('Nested')).toMatchObject({ tag: 'TEXTAREA', placeholder: '{"width":1,"unit":"px"}' });
    expect(await attrs('Tags')).toMatchObject({ tag: 'TEXTAREA', placeholder: '[""]' });
    // An enum is a select, its default chosen.
    expect(await field('Color').locator('option').allTextContents()).toEqual(['red', 'green', 'blue']);
    expect(await field('Color').locator('option:checked').textContent()).toBe('green');
    // Help text: the description (.describe()), and what each field takes.
    expect(await page.textContent('#field-count-description')).toBe('How many copies to make');
    expect(await page.textContent('#field-count-hint')).toBe('count: A whole number from 1 to 20.');
    expect(await page.textContent('#field-ratio-hint')).toBe('ratio: A number greater than 0 and at most 10, in steps of 0.25.');
    expect(await page.textContent('#field-code-hint')).toBe('code: Text, exactly 6 characters, matching ^[A-Z]{2}-\\d{3}$.');
    expect(await page.textContent('#field-label-hint')).toBe('label: Text, at most 20 characters. Optional: leave empty to omit.');
    expect(await page.textContent('#field-size-hint')).toBe('size: A whole number from 0 to 100. Default: 10.');
    expect(await field('Count').getAttribute('aria-describedby')).toBe('field-count-description field-count-hint field-count-error');
  });

  it('refuses bad values in the page, one message per field, and sends nothing', async () => {
    await page.getByLabel('Job type', { exact: true }).selectOption('kinds');
    const before = await node.list({ name: 'kinds' });
    await field('Count').fill('25');
    await field('Ratio').fill('0.3');
    await field('Code').fill('ab-12x');
    await field('Nested').fill('{oops');
    await field('Tags').fill('["a", "b", "c", "d"]');
    await page.getByRole('button', { name: 'Enqueue', exact: true }).click();
    expect(await page.textContent('#enqueue-status')).toBe('Please correct the 5 marked fields.');
    expect(await page.textContent('#field-count-error')).toBe('Count must be from 1 to 20; got 25.');
    expect(await page.textContent('#field-ratio-error')).toBe('Ratio must be a multiple of 0.25; got 0.3.');
    expect(await page.textContent('#field-code-error')).toBe('Code must match the pattern ^[A-Z]{2}-\\d{3}$.');
    expect(await page.textContent('#field-nested-error')).toMatch(/^Nested is not valid JSON: .+/);
    expect(await page.textContent('#field-tags-error')).toBe('Tags must have at most 3 items; got 4.');
    expect(await field('Count').getAttribute('aria-invalid')).toBe('true');
    expect(await page.evaluate(() => (globalThis as any).document.activeElement?.id)).toBe('field-count');
    const after = await node.list({ name: 'kinds' });
    expect(after.counts).toEqual(before.counts);
  });

  it('shows the hub\'s refusal verbatim (a nested field the page leaves to the hub) and marks the field it names', async () => {
    const data = { count: 3, ratio: 2.5, code: 'AB-123', loud: false, nested: { width: 'wide', unit: 'px' }, tags: [] };
    const fromNode = await node.enqueue('kinds', data).then(
      () => 'accepted',
      (err: unknown) => hubErrorMessage(err),
    );
    expect(fromNode).toMatch(/^SB_JOB_INVALID_DATA: Invalid data for job 'kinds': nested\.width: /);
    await page.getByLabel('Job type', { exact: true }).selectOption('kinds');
    await field('Count').fill('3');
    await field('Ratio').fill('2.5');
    await field('Code').fill('AB-123');
    await field('Nested').fill('{"width": "wide", "unit": "px"}');
    await field('Tags').fill('[]');
    await page.getByRole('button', { name: 'Enqueue', exact: true }).click();
    await page.locator('#enqueue-status', { hasText: 'Could not enqueue' }).waitFor({ timeout: 5000 });
    expect(await page.textContent('#enqueue-status')).toBe(`Could not enqueue: ${fromNode}`);
    expect(await page.textContent('#field-nested-error')).toMatch(/^The hub refused it: nested\.width: /);
    expect(await field('Nested').getAttribute('aria-invalid')).toBe('true');
  });

  it('enqueues good values (empty optional field left out, default filled in by the hub) and shows the result as collapsible JSON', async () => {
    const jobId = await enqueueThroughForm(page, 'kinds', { Count: '3', Ratio: '2.5', Color: 'blue', Code: 'AB-123', Label: '', Size: '', Nested: '{"width": 3, "unit": "em"}', Tags: '["x", "y"]' }, { checks: ['Loud'] });
    await waitForJobState(page, jobId, 'completed', 10_000);
    const result = jobCard(page, jobId).locator('details .job-result-value');
    expect(await jobCard(page, jobId).locator('details summary').textContent()).toBe('Result');
    expect(JSON.parse((await result.textContent())!)).toEqual({ count: 3, ratio: 2.5, color: 'blue', code: 'AB-123', loud: true, size: 10, nested: { width: 3, unit: 'em' }, tags: ['x', 'y'] });
    await screenshot(page, 'dashboard-generated-form');
  }, 20_000);

  it('a delayed job shows delayed with its due time, then active, then completed (card and queue)', async () => {
    await showTab(page, 'All');
    const started = Date.now();
    const jobId = await enqueueThroughForm(page, 'slow', { Ms: '1000' }, { delaySeconds: 2 });
    await recordStates(page, jobId);
    await waitForJobState(page, jobId, 'delayed', 2000);
    expect(await jobCard(page, jobId).locator('.job-due').textContent()).toMatch(/^due \d\d:\d\d:\d\d \(in [12] s\)$/);
    await queueRow(page, jobId).locator('.op-due').filter({ hasText: /^due \d\d:\d\d:\d\d \(in [12] s\)$/ }).waitFor({ timeout: 2000 });
    expect(await queueRow(page, jobId).getAttribute('data-state')).toBe('delayed');
    expect(Number(await page.locator('#ops-states button[data-state="delayed"] .count').textContent())).toBeGreaterThanOrEqual(1);
    await waitForJobState(page, jobId, 'completed', 10_000);
    await queueRow(page, jobId).and(page.locator('[data-state="completed"]')).waitFor({ timeout: 2000 });
    const seen = await recordedStates(page, jobId);
    expect(seen.card).toEqual(['delayed', 'active', 'completed']);
    expect(seen.row).toEqual(['delayed', 'active', 'completed']);
    const snap = (await (await fetch(`${dep.hubA.url}/api/jobs/${jobId}`, { signal: AbortSignal.timeout(3000) })).json()) as JobUpdate;
    expect(snap.dueAt! - snap.createdAt).toBeGreaterThanOrEqual(1900);
    expect(snap.startedAt! - started).toBeGreaterThanOrEqual(1900); // it waited for its due time
    expect(snap.finishedAt! - snap.startedAt!).toBeGreaterThanOrEqual(900);
  }, 20_000);
});
