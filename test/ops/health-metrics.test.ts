import { randomBytes } from 'node:crypto';
import type { ConnectionInfo, SystemStats } from '@switchboard/contracts';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '../faults/support.js';
import { negotiateToken } from '../hub/fixture.js';
import { RS, UpgradeRefused, rawPool } from '../hub/raw-client.js';
import type { StartedProcess } from '../support/processes.js';
import { startRedis, uniquePrefix, type PrivateRedis } from '../support/redis.js';
import { clientPool, nextCalls } from '../support/signalr.js';
import { get, scrape, startHubNode, type Scrape } from './support.js';

// Two real hub nodes: R with a private Redis (debug logs, captured for the token check) and
// S without Redis. The Redis outage runs last: it kills R's Redis.

const CHAT_JSON = { hub: 'chat', transport: 'WebSockets', protocol: 'json' };
const COMMON_METRICS = {
  switchboard_connections: 'gauge',
  switchboard_connections_opened_total: 'counter',
  switchboard_connections_closed_total: 'counter',
  switchboard_messages_received_total: 'counter',
  switchboard_messages_sent_total: 'counter',
  switchboard_received_bytes_total: 'counter',
  switchboard_sent_bytes_total: 'counter',
  switchboard_invocation_duration_seconds: 'histogram',
  process_cpu_user_seconds_total: 'counter',
  nodejs_eventloop_lag_seconds: 'gauge',
  switchboard_write_coalescing_ms: 'gauge',
};
const REDIS_METRICS = {
  switchboard_backplane_published_total: 'counter',
  switchboard_backplane_received_total: 'counter',
  switchboard_backplane_publish_errors_total: 'counter',
  switchboard_backplane_connection_errors_total: 'counter',
  switchboard_backplane_connected: 'gauge',
  switchboard_backplane_delay_seconds: 'histogram',
  switchboard_queue_jobs: 'gauge',
  switchboard_jobs_finished_per_second: 'gauge',
};

describe('hub node operations: /healthz, /readyz, /metrics, logs', () => {
  const pool = clientPool();
  const raw = rawPool();
  let redis: PrivateRedis;
  let r: StartedProcess;
  let s: StartedProcess;

  beforeAll(async () => {
    redis = await startRedis();
    [r, s] = await Promise.all([
      startHubNode({ REDIS_URL: redis.url, REDIS_PREFIX: uniquePrefix('ops'), HUB_SECRET: randomBytes(32).toString('base64'), LOG_LEVEL: 'debug', NODE_ID: 'hub-r' }),
      startHubNode({ NODE_ID: 'hub-s' }),
    ]);
  });
  afterEach(async () => {
    raw.terminateAll();
    await pool.stopAll();
  });
  afterAll(async () => {
    await Promise.all([r?.stop(), s?.stop()]);
    await redis?.stop();
  });

  it('/healthz answers 200 JSON with the node id and pid; /readyz 200 with Redis up, or not configured', async () => {
    for (const [node, id] of [[r, 'hub-r'], [s, 'hub-s']] as const) {
      const health = await get(`${node.url}/healthz`);
      expect(health.status).toBe(200);
      expect(health.type).toBe('application/json');
      expect(health.body).toMatchObject({ status: 'ok', nodeId: id, pid: node.child.pid });
      expect((health.body as { uptimeMs: number }).uptimeMs).toBeGreaterThan(0);
    }
    expect(await get(`${r.url}/readyz`)).toMatchObject({ status: 200, body: { status: 'ready', nodeId: 'hub-r', accepting: true, redis: 'up' } });
    expect(await get(`${s.url}/readyz`)).toMatchObject({ status: 200, body: { status: 'ready', nodeId: 'hub-s', accepting: true, redis: 'not-configured' } });
    expect((await get(`${r.url}/readyz`, { method: 'POST' })).status).toBe(405);
    expect((await get(`${r.url}/metrics`, { method: 'DELETE' })).status).toBe(405);
  });

  it('/metrics is Prometheus text with the documented families, labelled with the node id; backplane and queue families only with Redis', async () => {
    const [withRedis, alone] = await Promise.all([scrape(r.url), scrape(s.url)]);
    for (const [name, type] of Object.entries({ ...COMMON_METRICS, ...REDIS_METRICS })) expect(withRedis.types.get(name), name).toBe(type);
    for (const [name, type] of Object.entries(COMMON_METRICS)) expect(alone.types.get(name), name).toBe(type);
    for (const name of Object.keys(REDIS_METRICS)) expect(alone.types.has(name), name).toBe(false);
    expect(withRedis.samples.every((x) => x.labels['node_id'] === 'hub-r')).toBe(true);
    expect(alone.samples.every((x) => x.labels['node_id'] === 'hub-s')).toBe(true);
    expect(withRedis.value('switchboard_backplane_connected')).toBe(1);
    for (const state of ['waiting', 'active', 'delayed', 'completed', 'failed']) expect(withRedis.has('switchboard_queue_jobs', { state }), state).toBe(true);
    expect(withRedis.value('switchboard_jobs_finished_per_second')).toBe(0);
    // Within [0, MAX_WRITE_DELAY_MS (12 by default)]: 0 unless the node's event loop ran late while writing.
    for (const m of [withRedis, alone]) {
      expect(m.value('switchboard_write_coalescing_ms')).toBeGreaterThanOrEqual(0);
      expect(m.value('switchboard_write_coalescing_ms')).toBeLessThanOrEqual(12);
    }
  });

  it('counters move with a connection and invocations: connections by transport and protocol, messages, backplane publishes, latency histogram', async () => {
    const before = await scrape(r.url);
    const json = await pool.connect(`${r.url}/hubs/chat`, { protocol: 'json' });
    const mp = await pool.connect(`${r.url}/hubs/chat`, { protocol: 'messagepack' });
    await json.invoke('SendMessage', 'ana', 'hello');
    await expect(json.invoke('SendMessage', 1, 2)).rejects.toThrow(/two strings/);
    const during = await scrape(r.url);
    const delta = (m: Scrape, name: string, labels?: Record<string, string>) => m.value(name, labels) - before.value(name, labels);

    expect(delta(during, 'switchboard_connections_opened_total', CHAT_JSON)).toBe(1);
    expect(delta(during, 'switchboard_connections_opened_total', { ...CHAT_JSON, protocol: 'messagepack' })).toBe(1);
    expect(during.value('switchboard_connections', CHAT_JSON)).toBe(1);
    expect(during.value('switchboard_connections', { hub: 'chat' })).toBe(2);
    expect(delta(during, 'switchboard_invocation_duration_seconds_count', { hub: 'chat', method: 'SendMessage', outcome: 'ok' })).toBe(1);
    expect(delta(during, 'switchboard_invocation_duration_seconds_count', { hub: 'chat', method: 'SendMessage', outcome: 'error' })).toBe(1);
    expect(during.value('switchboard_invocation_duration_seconds_bucket', { hub: 'chat', method: 'SendMessage', outcome: 'ok', le: '+Inf' })).toBeGreaterThanOrEqual(1);
    expect(during.value('switchboard_invocation_duration_seconds_sum', { hub: 'chat', method: 'SendMessage', outcome: 'ok' })).toBeGreaterThan(0);
    expect(delta(during, 'switchboard_messages_received_total', { hub: 'chat' })).toBeGreaterThanOrEqual(2);
    // Two handshake answers, two completions, and ReceiveMessage to both clients.
    expect(delta(during, 'switchboard_messages_sent_total', { hub: 'chat' })).toBeGreaterThanOrEqual(6);
    expect(delta(during, 'switchboard_received_bytes_total', { hub: 'chat' })).toBeGreaterThan(0);
    expect(delta(during, 'switchboard_sent_bytes_total', { hub: 'chat' })).toBeGreaterThan(0);
    // The chat send to all is published for other nodes (this node's system pushes may add more).
    expect(delta(during, 'switchboard_backplane_published_total')).toBeGreaterThanOrEqual(1);

    await json.stop();
    await mp.stop();
    const after = await waitFor('both closes counted', async () => {
      const m = await scrape(r.url);
      return m.value('switchboard_connections', { hub: 'chat' }) === 0 ? m : undefined;
    });
    expect(delta(after, 'switchboard_connections_closed_total', { hub: 'chat' })).toBe(2);
  });

  it('a node without Redis pushes its own system view: itself, no workers, an empty queue; whoami names it', async () => {
    const c = await pool.connect(`${s.url}/hubs/system`, { protocol: 'messagepack' });
    const who = await c.invoke<ConnectionInfo>('whoami');
    expect(who).toEqual({ nodeId: 'hub-s', pid: s.child.pid, connectionId: c.connectionId, transport: 'WebSockets', protocol: 'messagepack' });
    const [[pushed]] = (await nextCalls(c, 'systemStats', 1, 3000)) as [[SystemStats]];
    expect(pushed.hubNodes).toEqual([expect.objectContaining({ nodeId: 'hub-s', pid: s.child.pid, connections: 1, byProtocol: { messagepack: 1 }, byTransport: { WebSockets: 1 } })]);
    expect(pushed.workers).toEqual([]);
    expect(pushed.queue).toEqual({ waiting: 0, active: 0, delayed: 0, completed: 0, failed: 0 });
    expect(pushed.jobsPerSecond).toBe(0);
    expect(Math.abs(pushed.at - Date.now())).toBeLessThan(3000);
    const asked = await c.invoke<SystemStats>('stats');
    expect(asked.hubNodes.map((n) => n.nodeId)).toEqual(['hub-s']);
  });

  it('logs one line per connection open and close and per error, and never a connection token or an access token', async () => {
    const accessToken = `at-${randomBytes(18).toString('base64url')}`;
    const official = await pool.connect(`${r.url}/hubs/chat`, { accessTokenFactory: () => accessToken });
    const officialId = official.connectionId!;
    await official.invoke('SendMessage', 'ana', 'logged?');
    await official.stop();

    const { connectionId, connectionToken } = await negotiateToken(`${r.url}/hubs/chat`);
    const ws = `${r.url.replace('http', 'ws')}/hubs/chat?id=${encodeURIComponent(connectionToken)}&access_token=${accessToken}`;
    const c = await raw.connected(ws);
    c.send(`{"type":1,"target":"SendMessage","arguments":[${RS}`); // malformed: closes with an error
    await c.closeMessage();
    // Reusing the token of the closed connection, and a forged token, are refused (and logged).
    expect(await raw.open(ws).catch((e: unknown) => e)).toBeInstanceOf(UpgradeRefused);
    const forged = `${connectionToken.slice(0, -4)}AAAA`;
    expect(await raw.open(`${r.url.replace('http', 'ws')}/hubs/chat?id=${encodeURIComponent(forged)}`).catch((e: unknown) => e)).toBeInstanceOf(UpgradeRefused);

    // stderr arrives through a pipe, possibly after the HTTP answers: wait for the last lines.
    await waitFor('the close of the raw connection and the forged token to be logged', () => {
      const out = r.output();
      const closeLogged = out.split('\n').some((l) => l.includes(connectionId) && l.includes('"connection closed"'));
      return closeLogged && out.includes('invalid or expired connection token');
    });
    const out = r.output();
    const lines = out.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, unknown>);
    const about = (id: string, msg: string) => lines.filter((l) => l['connectionId'] === id && l['msg'] === msg);
    for (const id of [officialId, connectionId]) {
      expect(about(id, 'connection opened'), id).toHaveLength(1);
      expect(about(id, 'connection closed'), id).toHaveLength(1);
    }
    expect(lines.filter((l) => l['connectionId'] === connectionId && l['level'] === 40 && String(l['msg']).startsWith('bad input'))).toHaveLength(1);
    expect(lines.some((l) => String(l['msg']).includes('invalid or expired connection token'))).toBe(true);
    expect(lines.every((l) => l['nodeId'] === 'hub-r' && l['app'] === 'hub')).toBe(true);

    expect(out).not.toContain(accessToken);
    expect(out).not.toContain(connectionToken);
    expect(out).not.toContain(encodeURIComponent(connectionToken));
    expect(out).not.toContain(forged.slice(0, 40));
  });

  it('Redis killed: /readyz answers 503 redis-unreachable while /healthz and /metrics still answer; 200 again once Redis returns', async () => {
    await redis.kill();
    const down = await waitFor('readyz to report Redis down', async () => {
      const res = await get(`${r.url}/readyz`);
      return res.status === 503 ? res : undefined;
    }, 3000, 50);
    expect(down.body).toEqual({ status: 'unavailable', reason: 'redis-unreachable', nodeId: 'hub-r', accepting: true, redis: 'down' });
    expect((await get(`${r.url}/healthz`)).status).toBe(200);
    const started = Date.now();
    const m = await scrape(r.url);
    expect(Date.now() - started).toBeLessThan(1900);
    expect(m.value('switchboard_backplane_connected')).toBe(0);
    expect(m.has('switchboard_queue_jobs')).toBe(false);
    // The node without Redis is unaffected.
    expect((await get(`${s.url}/readyz`)).status).toBe(200);
    // Reconnect attempts fail while Redis is away; each failure is counted.
    await waitFor('a counted backplane connection error', async () => (await scrape(r.url)).value('switchboard_backplane_connection_errors_total') > 0, 3000, 100);

    await redis.restart();
    const up = await waitFor('readyz to report Redis up again', async () => {
      const res = await get(`${r.url}/readyz`);
      return res.status === 200 ? res : undefined;
    }, 6000, 100);
    expect(up.body).toMatchObject({ status: 'ready', redis: 'up' });
    const again = await scrape(r.url);
    expect(again.value('switchboard_backplane_connected')).toBe(1);
    expect(again.has('switchboard_queue_jobs', { state: 'waiting' })).toBe(true);
  });
});
