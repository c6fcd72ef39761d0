import { randomBytes } from 'node:crypto';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hasChromium, launchChromium, CHROMIUM_PATH } from '../support/browser.js';
import { startNodeProcess, type StartedProcess } from '../support/processes.js';
import { connect } from '../support/signalr.js';

// Real Chromium running the official browser bundle against a real `apps/hub` process.
describe('chat in a real browser', () => {
  let hub: StartedProcess;
  let browser: Browser;

  beforeAll(async () => {
    if (!hasChromium()) throw new Error(`Chromium not found at ${CHROMIUM_PATH}; install it with 'apt-get install -y chromium' (.ci/run does).`);
    hub = await startNodeProcess('apps/hub/dist/main.js', { PORT: '0', HOST: '127.0.0.1', HUB_SECRET: randomBytes(32).toString('base64'), LOG_LEVEL: 'warn' });
    browser = await launchChromium();
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    await hub?.stop();
  });

  it('JSON and MessagePack pages exchange messages with each other and with a Node client', async () => {
    const json = await browser.newPage();
    const msgpack = await browser.newPage();
    await json.goto(`${hub.url}/`);
    await msgpack.goto(`${hub.url}/?protocol=messagepack`);
    for (const page of [json, msgpack]) await page.waitForSelector('#status[data-state="connected"]', { timeout: 10_000 });

    await json.fill('#user', 'browser-json');
    await json.fill('#message', 'hello from json');
    await json.click('button[type="submit"]');
    await msgpack.fill('#user', 'browser-msgpack');
    await msgpack.fill('#message', 'hello from msgpack');
    await msgpack.press('#message', 'Enter');

    const node = await connect(`${hub.url}/hubs/chat`);
    try {
      await node.invoke('SendMessage', 'node', 'hello from node');
      for (const page of [json, msgpack]) {
        await page.waitForFunction(() => document.querySelectorAll('#messages li').length >= 3, undefined, { timeout: 10_000 });
        const items = await page.$$eval('#messages li', (lis) => lis.map((li) => li.textContent));
        expect(items).toEqual(['browser-json: hello from json', 'browser-msgpack: hello from msgpack', 'node: hello from node']);
      }
    } finally {
      await node.stop();
    }
  }, 40_000);
});
