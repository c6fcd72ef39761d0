import { randomBytes } from 'node:crypto';
import { connectChat, type ChatConnection } from '@switchboard/client';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hasChromium, launchChromium, CHROMIUM_PATH } from '../support/browser.js';
import { openDashboard } from '../support/dashboard.js';
import { startNodeProcess, type StartedProcess } from '../support/processes.js';

// The dashboard in real Chromium against one `apps/hub` process without Redis: chat works (JSON
// and MessagePack pages, and a Node client through libs/client); jobs say clearly what is missing.
describe('dashboard on a single hub node without Redis', () => {
  let hub: StartedProcess;
  let browser: Browser;

  beforeAll(async () => {
    if (!hasChromium()) throw new Error(`Chromium not found at ${CHROMIUM_PATH}; install it with 'apt-get install -y chromium' (.ci/run does).`);
    [hub, browser] = await Promise.all([
      startNodeProcess('apps/hub/dist/main.js', { PORT: '0', HOST: '127.0.0.1', HUB_SECRET: randomBytes(32).toString('base64'), LOG_LEVEL: 'warn' }),
      launchChromium(),
    ]);
  }, 30_000);
  afterAll(async () => {
    await browser?.close();
    await hub?.stop();
  });

  it('JSON and MessagePack pages chat with each other and with a Node client', async () => {
    // One context (window) per page: a background tab of a shared window is throttled.
    const contexts = await Promise.all([browser.newContext(), browser.newContext()]);
    const [json, msgpack] = await Promise.all([openDashboard(contexts[0], hub.url), openDashboard(contexts[1], hub.url, '?protocol=messagepack')]);
    let node: ChatConnection | undefined;
    try {
      const say = async (page: Page, user: string, text: string, count: number) => {
        await page.getByLabel('Name', { exact: true }).fill(user);
        await page.getByLabel('Message', { exact: true }).fill(text);
        await page.getByRole('button', { name: 'Send', exact: true }).click();
        for (const p of [json, msgpack]) await p.locator('#chat-messages li').nth(count - 1).waitFor({ timeout: 10_000 });
      };
      await say(json, 'browser-json', 'hello from json', 1);
      await say(msgpack, 'browser-msgpack', 'hello from msgpack', 2);
      node = connectChat(hub.url, { reconnectDelays: false });
      node.onMessage(() => {});
      await node.start();
      await node.send('node', 'hello from node');
      for (const p of [json, msgpack]) {
        await p.locator('#chat-messages li').nth(2).waitFor({ timeout: 10_000 });
        expect(await p.locator('#chat-messages li').allTextContents()).toEqual(['browser-json: hello from json', 'browser-msgpack: hello from msgpack', 'node: hello from node']);
      }
      // An empty message is refused on the page, with a message, and nothing is sent.
      await json.getByLabel('Message', { exact: true }).fill('   ');
      await json.getByRole('button', { name: 'Send', exact: true }).click();
      expect(await json.textContent('#chat-status')).toBe('Type a message first.');
      expect(await json.locator('#chat-messages li').count()).toBe(3);
    } finally {
      await node?.stop();
      await Promise.all(contexts.map((c) => c.close()));
    }
  }, 30_000);

  it('the enqueue form and the queue say that jobs need Redis (the hub\'s own message)', async () => {
    const context = await browser.newContext();
    try {
      const page = await openDashboard(context, hub.url);
      // The form is generated from jobTypes(), which the hub refuses without Redis: nothing to fill in.
      await page.locator('#enqueue-status').filter({ hasText: /Job types unavailable/ }).waitFor({ timeout: 10_000 });
      expect(await page.textContent('#enqueue-status')).toMatch(/^Job types unavailable: SB_JOBS_UNAVAILABLE: Jobs need Redis: start the hub node with REDIS_URL/);
      expect(await page.getByRole('button', { name: 'Enqueue', exact: true }).isDisabled()).toBe(true);
      await page.locator('#ops-status').filter({ hasText: /Job list unavailable/ }).waitFor({ timeout: 10_000 });
      expect(await page.textContent('#ops-status')).toMatch(/^Job list unavailable: SB_JOBS_UNAVAILABLE: Jobs need Redis/);
      expect(await page.locator('li.job').count()).toBe(0);
    } finally {
      await context.close();
    }
  }, 20_000);
});
