import { spawnSync } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRedisBackplane, type RedisBackplane } from '@switchboard/backplane-redis';
import { createHubContext, hubRef as hubRefFromContext, type HubContext } from '@switchboard/hub-context';
import { defineHub, HubServer, hubRef, type HubEndpoint } from '@switchboard/hub-server';
import { hubRef as hubRefFromBackplane } from '@switchboard/hub-server/backplane';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { record, waitFor } from '../faults/support.js';
import { REPO_ROOT } from '../support/processes.js';
import { uniquePrefix } from '../support/redis.js';
import { clientPool, delay } from '../support/signalr.js';
import { capturingLogger, TEST_SECRET } from './fixture.js';

// One hub node in this process over Redis (REDIS_URL, or 127.0.0.1:6379, with a private prefix),
// official @microsoft/signalr clients, and hub contexts built from the same hub refs.

interface NotificationsClient {
  notify(text: string, level: 'info' | 'warn'): void;
}

// What a shared module would export: the hub declared once for the node and the workers.
const notificationsHub = hubRef<NotificationsClient>('notifications');
const alertsHub = hubRef<NotificationsClient>('Alerts', { path: '/api/v2/alerts' });

const notifications = defineHub<NotificationsClient>()({
  methods: {
    async Join(ctx, group: string) {
      await ctx.groups.add(ctx.connectionId, group);
    },
  },
});

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

describe('hubRef: one declaration for mapHub and createHubContext', () => {
  const prefix = uniquePrefix('hub-ref');
  const pool = clientPool();
  const log = capturingLogger();
  let backplane: RedisBackplane;
  let hubs: HubServer;
  let http: Server;
  let origin: string;
  let endpoint: HubEndpoint<NotificationsClient>;
  const contexts: HubContext<NotificationsClient>[] = [];
  const context = (hub: typeof notificationsHub) => {
    const ctx = createHubContext({ hub, redis: REDIS_URL, prefix, logger: log });
    contexts.push(ctx);
    return ctx;
  };

  beforeAll(async () => {
    backplane = createRedisBackplane({ redis: REDIS_URL, prefix });
    hubs = new HubServer({ secret: TEST_SECRET, scaleOut: backplane.scaleOut, logger: log });
    endpoint = hubs.mapHub(notificationsHub, notifications);
    hubs.mapHub(alertsHub, notifications);
    http = createServer();
    hubs.attach(http);
    await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
    origin = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    await pool.stopAll();
    await Promise.all(contexts.map((c) => c.close()));
    await hubs?.close();
    http?.closeAllConnections();
    await new Promise((resolve) => http?.close(resolve));
    await backplane?.close();
  });

  it('a ref carries the lower-cased name and its path; the same function from every entry point', () => {
    expect(notificationsHub).toEqual({ name: 'notifications', path: '/hubs/notifications' });
    expect(alertsHub).toEqual({ name: 'alerts', path: '/api/v2/alerts' });
    expect(Object.isFrozen(notificationsHub)).toBe(true);
    expect(hubRefFromContext).toBe(hubRef);
    expect(hubRefFromBackplane).toBe(hubRef);
    expect(endpoint.name).toBe('notifications');
    expect(endpoint.path).toBe('/hubs/notifications');
  });

  it('refuses a name that is not a path segment, and a path whose last segment is not the name (SB_CONFIG_INVALID)', () => {
    for (const make of [() => hubRef(''), () => hubRef('a/b'), () => hubRef('alerts', { path: '/api/alert' }), () => hubRef('alerts', { path: 'alerts' })]) {
      expect(make).toThrow(expect.objectContaining({ code: 'SB_CONFIG_INVALID' }));
    }
    expect(() => hubRef('alerts', { path: '/api/alert' })).toThrow(/last segment of path '\/api\/alert' is 'alert'/);
  });

  it('mapHub(ref) serves at /hubs/<name> (and at an overridden path); a hub context from the same ref reaches an official client there', async () => {
    const a = await pool.connect(`${origin}/hubs/notifications`);
    const b = await pool.connect(`${origin}/hubs/notifications`, { protocol: 'messagepack' });
    const alerts = await pool.connect(`${origin}/api/v2/alerts`);
    const got = [a, b, alerts].map((c) => record(c, 'notify'));
    await b.invoke('Join', 'ops');
    const ctx = context(notificationsHub);
    await ctx.clients.all.notify('to all', 'info');
    await ctx.clients.group('ops').notify('to ops', 'warn');
    await context(alertsHub).clients.all.notify('alert', 'warn');
    await endpoint.clients.client(a.connectionId!).notify('from the endpoint', 'info'); // the endpoint is typed by the ref too
    await waitFor('the notifications', () => got[0]!.length === 2 && got[1]!.length === 2 && got[2]!.length === 1);
    await delay(100);
    expect(got).toEqual([
      [['to all', 'info'], ['from the endpoint', 'info']],
      [['to all', 'info'], ['to ops', 'warn']],
      [['alert', 'warn']],
    ]);
    // Heard: none of these counts as unheard, and nothing was warned.
    expect(ctx.stats()).toEqual({ sends: 2, noReceivers: 0, unheard: 0 });
    expect(log.find('no hub node is subscribed')).toEqual([]);
  });

  it('no path but the ref’s serves the hub', async () => {
    await expect(pool.connect(`${origin}/hubs/notification`)).rejects.toThrow(/404/);
    await expect(pool.connect(`${origin}/hubs/alerts`)).rejects.toThrow(/404/);
  });

  it('sends to a hub nobody serves count as unheard and warn once, naming what to check; an empty group of a served hub does not', async () => {
    const c = await pool.connect(`${origin}/hubs/notifications`);
    const got = record(c, 'notify');
    const served = context(notificationsHub);
    await served.clients.group('nobody-is-here').notify('x', 'info');
    await served.clients.user('no-such-user').notify('x', 'info');

    const notificationHub = hubRef<NotificationsClient>('notification'); // the typo a string would allow
    const typo = context(notificationHub);
    await typo.clients.all.notify('lost', 'info');
    await typo.clients.group('ops').notify('lost', 'info');
    await typo.clients.all.notify('lost', 'info');
    await waitFor('the unheard count', () => typo.stats().unheard === 3, 3000);
    expect(typo.stats()).toEqual({ sends: 3, noReceivers: 3, unheard: 3 });

    const warnings = log.find('no hub node is subscribed');
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatchObject({ level: 'warn', obj: { hub: 'notification', prefix } });
    expect(warnings[0]!.msg).toContain("no hub node is subscribed to hub 'notification'");
    expect(warnings[0]!.msg).toContain('check that `hub` matches the last path segment of a mapped hub');
    expect(warnings[0]!.msg).toContain('REDIS_PREFIX');
    expect(log.find("a send to hub 'notification' reached no hub node").map((e) => e.level)).toEqual(['debug', 'debug']);

    // The served hub: its empty group and user reached nobody, which is normal (probe answered "served").
    await delay(200);
    expect(served.stats()).toEqual({ sends: 2, noReceivers: 2, unheard: 0 });
    expect(log.find('no hub node is subscribed', { hub: 'notifications' })).toEqual([]);
    expect(got).toEqual([]);
  });

  it('hubRef and createHubContext load neither ws nor node:http (safe in workers)', () => {
    // A resolve hook that fails any import of ws or http; the main entry (the server) is the positive control.
    const hook = `export async function resolve(s, c, n) { if (s === 'ws' || s === 'node:http' || s === 'http') throw new Error('loaded ' + s); return n(s, c); }`;
    const run = (entry: string) => {
      const script = `
        import { register } from 'node:module';
        register('data:text/javascript,' + encodeURIComponent(${JSON.stringify(hook)}));
        const { hubRef } = await import('${entry}');
        console.log(hubRef('jobs').path);`;
      const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { cwd: REPO_ROOT, encoding: 'utf8', timeout: 10_000 });
      return `${r.stdout}${r.stderr}`;
    };
    expect(run('@switchboard/hub-server/backplane')).toBe('/hubs/jobs\n');
    expect(run('@switchboard/hub-context')).toBe('/hubs/jobs\n');
    expect(run('@switchboard/hub-server')).toMatch(/Error: loaded ws/);
  });
});
