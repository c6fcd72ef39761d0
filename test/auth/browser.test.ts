// In real Chromium against an apps/hub node with AUTH_JWT_SECRET and CORS_ORIGINS:
// - the dashboard's access-token field (sessionStorage) gets it connected, and its jobs are owned;
// - the official browser client on another origin connects over long polling (preflights for the
//   Authorization header, credentials) only from a listed origin, and opens a WebSocket straight
//   away (skipNegotiation) only from a listed origin too (403 SB_ORIGIN_NOT_ALLOWED otherwise).
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Browser, BrowserContext } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHROMIUM_PATH, hasChromium, launchChromium } from '../support/browser.js';
import { enqueueHash, screenshot } from '../support/dashboard.js';
import { waitFor } from '../faults/support.js';
import { mintHs256, testJwtSecret } from '../support/jwt.js';
import { startNodeProcess, type StartedProcess } from '../support/processes.js';
import { startRedis, uniquePrefix, type PrivateRedis } from '../support/redis.js';

const secret = testJwtSecret();
let redis: PrivateRedis;
let hub: StartedProcess;
let browser: Browser;
let context: BrowserContext;
/** Serves the cross-origin page at http://127.0.0.1:<port>/ (listed) and http://localhost:<port>/ (not listed). */
let pageServer: Server;
let pagePort: number;
let alice: string;
let bob: string;

/** A page on another origin that connects to the hub with the official browser bundle and reports the outcome in #result. */
function crossOriginPage(hubUrl: string): string {
  return `<!doctype html><meta charset="utf-8"><title>cross-origin</title><p id="result">pending</p>
<script src="${hubUrl}/lib/signalr.js"></script>
<script>
  const query = new URLSearchParams(location.search);
  const token = query.get('token');
  const result = document.getElementById('result');
  // ?ws: straight to a WebSocket (skipNegotiation), the upgrade CORS does not cover.
  const options = query.has('ws')
    ? { skipNegotiation: true, transport: signalR.HttpTransportType.WebSockets, accessTokenFactory: () => token }
    : { transport: signalR.HttpTransportType.LongPolling, accessTokenFactory: () => token };
  const connection = new signalR.HubConnectionBuilder()
    .withUrl('${hubUrl}/hubs/chat', options)
    .configureLogging(signalR.LogLevel.None)
    .build();
  connection.on('ReceiveMessage', (user, message) => { result.textContent = 'received ' + user + ': ' + message; result.dataset.state = 'received'; });
  connection.start()
    .then(() => connection.invoke('SendMessage', 'page', 'hello'))
    .catch((err) => { result.textContent = 'failed: ' + err.message; result.dataset.state = 'failed'; });
</script>`;
}

beforeAll(async () => {
  if (!hasChromium()) throw new Error(`Chromium not found at ${CHROMIUM_PATH}; install it with 'apt-get install -y chromium' (.ci/run does).`);
  let html = '';
  pageServer = createServer((_req, res) => {
    res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' });
    res.end(html);
  });
  await new Promise<void>((resolve) => pageServer.listen(0, '127.0.0.1', resolve));
  pagePort = (pageServer.address() as AddressInfo).port;
  redis = await startRedis();
  [hub, browser] = await Promise.all([
    startNodeProcess('apps/hub/dist/main.js', {
      REDIS_URL: redis.url,
      REDIS_PREFIX: uniquePrefix('auth-web'),
      LOG_LEVEL: 'warn',
      PORT: '0',
      HOST: '127.0.0.1',
      AUTH_JWT_SECRET: secret,
      CORS_ORIGINS: `http://127.0.0.1:${pagePort}`,
    }),
    launchChromium(),
  ]);
  html = crossOriginPage(hub.url);
  [alice, bob] = await Promise.all([mintHs256(secret, 'alice'), mintHs256(secret, 'bob')]);
  context = await browser.newContext();
}, 30_000);
afterAll(async () => {
  await browser?.close();
  await hub?.stop('SIGTERM', 3000);
  await redis?.stop();
  await new Promise<void>((resolve) => (pageServer ? pageServer.close(() => resolve()) : resolve()));
});

describe('the dashboard with an access token', () => {
  it('says a token is needed (401); with the token (kept in sessionStorage) it connects, and its jobs belong to that user', async () => {
    const page = await context.newPage();
    await page.goto(`${hub.url}/`, { timeout: 10_000 });
    await page.locator('#token-status', { hasText: 'This hub node requires an access token (401): paste one above.' }).waitFor({ timeout: 10_000 });
    expect(await page.getAttribute('#status', 'data-state')).not.toBe('connected');
    expect(await page.getAttribute('#token-panel', 'open')).toBe('');
    await page.setViewportSize({ width: 375, height: 700 });
    await screenshot(page, 'dashboard-token-required', false);

    await page.getByLabel('Access token', { exact: true }).fill(alice);
    await Promise.all([page.waitForEvent('load', { timeout: 10_000 }), page.getByRole('button', { name: 'Use token' }).click()]);
    await page.waitForSelector('#status[data-state="connected"]', { timeout: 10_000 });
    expect(await page.evaluate(() => (globalThis as any).sessionStorage.getItem('switchboard.accessToken'))).toBe(alice);
    expect(await page.textContent('#token-status')).toBe('Using the access token stored for this tab.');

    const jobId = await enqueueHash(page, 1000);
    const asAlice = await fetch(`${hub.url}/api/jobs/${jobId}`, { headers: { Authorization: `Bearer ${alice}` }, signal: AbortSignal.timeout(3000) });
    expect([asAlice.status, ((await asAlice.json()) as { owner?: string }).owner]).toEqual([200, 'alice']);
    const asBob = await fetch(`${hub.url}/api/jobs/${jobId}`, { headers: { Authorization: `Bearer ${bob}` }, signal: AbortSignal.timeout(3000) });
    expect(asBob.status).toBe(403);

    // Forget the token: after the reload the hub refuses again.
    await Promise.all([page.waitForEvent('load', { timeout: 10_000 }), page.getByRole('button', { name: 'Forget token' }).click()]);
    await page.locator('#token-status', { hasText: 'requires an access token (401)' }).waitFor({ timeout: 10_000 });
    expect(await page.evaluate(() => (globalThis as any).sessionStorage.getItem('switchboard.accessToken'))).toBeNull();
    await page.close();
  });
});

describe('CORS in the browser: the official client on another origin (long polling, Authorization header, credentials)', () => {
  it('from a listed origin it connects, sends and receives', async () => {
    const page = await context.newPage();
    await page.goto(`http://127.0.0.1:${pagePort}/?token=${alice}`, { timeout: 10_000 });
    await page.waitForSelector('#result[data-state]', { timeout: 10_000 });
    expect(await page.textContent('#result')).toBe('received page: hello');
    await page.close();
  });

  it('from an unlisted origin (localhost is another origin than 127.0.0.1) the browser blocks negotiate', async () => {
    const page = await context.newPage();
    await page.goto(`http://localhost:${pagePort}/?token=${alice}`, { timeout: 10_000 });
    await page.waitForSelector('#result[data-state]', { timeout: 10_000 });
    expect(await page.textContent('#result')).toMatch(/^failed: Failed to complete negotiation with the server: .*Failed to fetch/);
    await page.close();
  });
});

describe('WebSockets from another origin in the browser (skipNegotiation: no negotiate for CORS to block)', () => {
  it('from a listed origin the WebSocket opens and the chat works', async () => {
    const page = await context.newPage();
    await page.goto(`http://127.0.0.1:${pagePort}/?ws&token=${alice}`, { timeout: 10_000 });
    await page.waitForSelector('#result[data-state]', { timeout: 10_000 });
    expect(await page.textContent('#result')).toBe('received page: hello');
    await page.close();
  });

  it('from an unlisted origin the hub refuses the upgrade (403), even with a valid access token', async () => {
    const page = await context.newPage();
    await page.goto(`http://localhost:${pagePort}/?ws&token=${alice}`, { timeout: 10_000 });
    await page.waitForSelector('#result[data-state]', { timeout: 10_000 });
    expect(await page.textContent('#result')).toMatch(/^failed: .*WebSocket/);
    // Logged by the hub (stderr arrives through a pipe, possibly a little later).
    await waitFor('the refusal in the hub log', () => hub.output().includes('refused a WebSocket upgrade from an unlisted origin'), 3000);
    await page.close();
  });
});
