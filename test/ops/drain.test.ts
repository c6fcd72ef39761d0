import { randomBytes } from 'node:crypto';
import type { SystemStats } from '@switchboard/contracts';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '../faults/support.js';
import { UpgradeRefused, rawPool, type RawClient } from '../hub/raw-client.js';
import type { StartedProcess } from '../support/processes.js';
import { startRedis, uniquePrefix, type PrivateRedis } from '../support/redis.js';
import { clientPool, nextCalls, signalR } from '../support/signalr.js';
import { exitOf, get, startHubNode } from './support.js';

// SIGTERM on a hub node with Redis: during SHUTDOWN_DELAY_MS (1.5 s) it refuses new clients
// (readyz, negotiate and WebSocket upgrades answer 503) while open connections keep working; then
// it sends every client a Close that allows reconnecting, leaves the system view and exits 0.
// A second node stays up: its client sees the drained node leave the pushed system view.

const DELAY_MS = 1500;

describe('hub node SIGTERM: drain, Close with allowReconnect, exit 0', () => {
  const pool = clientPool();
  const raw = rawPool();
  let redis: PrivateRedis;
  let prefix: string;
  let a: StartedProcess;
  let b: StartedProcess;

  beforeAll(async () => {
    redis = await startRedis();
    prefix = uniquePrefix('drain');
    const env = { REDIS_URL: redis.url, REDIS_PREFIX: prefix, HUB_SECRET: randomBytes(32).toString('base64'), LOG_LEVEL: 'info' };
    [a, b] = await Promise.all([startHubNode({ ...env, NODE_ID: 'hub-a', SHUTDOWN_DELAY_MS: String(DELAY_MS) }), startHubNode({ ...env, NODE_ID: 'hub-b' })]);
  });
  afterAll(async () => {
    raw.terminateAll();
    await pool.stopAll();
    await Promise.all([a?.stop('SIGKILL'), b?.stop()]);
    await redis?.stop();
  });

  it('refuses new clients during the delay, keeps serving the open ones, then closes them with allowReconnect and exits 0', async () => {
    // An official client with automatic reconnect, a raw client to see the exact Close, and a
    // system-hub client on the other node.
    const official = await pool.connect(`${a.url}/hubs/chat`, { reconnect: [0, 200, 400, 800, 1600, 3200] });
    const closeSeen = raw.connected(`${a.url.replace('http', 'ws')}/hubs/chat`);
    const watcher = await pool.connect(`${b.url}/hubs/system`);
    const rawA: RawClient = await closeSeen;
    await waitFor('both nodes in the pushed view', async () => {
      const [[stats]] = (await nextCalls(watcher, 'systemStats', 1, 3000)) as [[SystemStats]];
      return stats.hubNodes.map((n) => n.nodeId).join() === 'hub-a,hub-b';
    }, 6000, 0);
    let reconnectingError: Error | undefined | 'none' = 'none';
    const reconnecting = new Promise<void>((resolve) =>
      official.onreconnecting((err) => {
        reconnectingError = err;
        resolve();
      }),
    );
    let closedEarly = false;
    official.onclose(() => (closedEarly = true));

    const signalledAt = Date.now();
    a.child.kill('SIGTERM');
    const exit = exitOf(a, DELAY_MS + 6000);

    // During the delay: not ready, no negotiate, no new WebSocket; the open connections work.
    const ready = await waitFor('readyz 503 draining', async () => {
      const res = await get(`${a.url}/readyz`);
      return res.status === 503 ? res : undefined;
    }, 1000, 20);
    expect(ready.body).toMatchObject({ status: 'unavailable', reason: 'draining', accepting: false, nodeId: 'hub-a' });
    expect((await get(`${a.url}/healthz`)).status).toBe(200);
    const negotiate = await get(`${a.url}/hubs/chat/negotiate?negotiateVersion=1`, { method: 'POST' });
    expect(negotiate.status).toBe(503);
    expect(negotiate.text).toMatch(/shutting down/);
    const upgrade = await raw.open(`${a.url.replace('http', 'ws')}/hubs/chat`).catch((e: unknown) => e);
    expect(upgrade).toBeInstanceOf(UpgradeRefused);
    expect((upgrade as UpgradeRefused).statusCode).toBe(503);
    await official.invoke('SendMessage', 'ana', 'still served while draining');
    expect(official.state).toBe(signalR.HubConnectionState.Connected);
    expect(Date.now() - signalledAt).toBeLessThan(DELAY_MS);

    // After the delay: the Close, then reconnecting (not closed), then the exit.
    const close = await rawA.closeMessage(DELAY_MS + 2000);
    expect(close).toEqual({ type: 7, allowReconnect: true });
    expect(Date.now() - signalledAt).toBeGreaterThanOrEqual(DELAY_MS - 50);
    expect((await rawA.closed()).code).toBe(1000);
    await reconnecting;
    expect(reconnectingError).toBeUndefined();
    expect(closedEarly).toBe(false);
    const { code, signal } = await exit;
    expect({ code, signal }).toEqual({ code: 0, signal: null });
    expect(a.output()).toMatch(/"msg":"shutting down: refusing new connections"/);
    expect(a.output()).toMatch(/"msg":"stopped"/);

    // The drained node left the system view at once (heartbeat removed, not left to go stale).
    const gone = await waitFor('hub-a gone from the pushed view', async () => {
      const [[stats]] = (await nextCalls(watcher, 'systemStats', 1, 4000)) as [[SystemStats]];
      return stats.hubNodes.map((n) => n.nodeId).join() === 'hub-b' ? Date.now() : undefined;
    }, 5000, 0);
    expect(gone - signalledAt).toBeLessThan(DELAY_MS + 4000);
    const check = new Redis(redis.url, { maxRetriesPerRequest: 1 });
    try {
      expect(await check.hkeys(`{${prefix}system}:hub-nodes`)).toEqual(['hub-b']);
    } finally {
      check.disconnect();
    }
  });
});
