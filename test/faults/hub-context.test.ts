import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createHubContext, type HubContext } from '@switchboard/hub-context';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT, startNodeProcess, type StartedProcess } from '../support/processes.js';
import { startRedis, uniquePrefix, type PrivateRedis } from '../support/redis.js';
import { clientPool, type signalR } from '../support/signalr.js';
import { isIsoTime, record, startAll, startProcessUntil, timed, waitFor } from './support.js';

// A hub context lives in processes without an HTTP server (workers, scripts): here the clock
// worker process, and this test process itself. Two real `apps/hub` node processes hold the
// browsers; everything reaches them only through a private redis-server.

interface ChatClient {
  ReceiveMessage(user: string, message: string): void;
}

type Hub = signalR.HubConnection;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('hub context: typed sends from processes that are not hub nodes', () => {
  const secret = randomBytes(32).toString('base64');
  const prefix = uniquePrefix('hub-context');
  const pool = clientPool();
  let redis: PrivateRedis;
  let nodeA: StartedProcess;
  let nodeB: StartedProcess;
  let worker: StartedProcess;

  beforeAll(async () => {
    redis = await startRedis();
    const env = { PORT: '0', HOST: '127.0.0.1', HUB_SECRET: secret, LOG_LEVEL: 'warn', REDIS_URL: redis.url, REDIS_PREFIX: prefix };
    [nodeA, nodeB, worker] = (await startAll([
      startNodeProcess('apps/hub/dist/main.js', env),
      startNodeProcess('apps/hub/dist/main.js', env),
      startProcessUntil('apps/clock-worker/dist/main.js', { REDIS_URL: redis.url, REDIS_PREFIX: prefix, INTERVAL_MS: '100' }, /clock-worker: publishing onTimeReceived every 100 ms/),
    ])) as [StartedProcess, StartedProcess, StartedProcess];
  });

  afterAll(async () => {
    await pool.stopAll();
    await Promise.all([nodeA?.stop(), nodeB?.stop(), worker?.stop()]);
    await redis?.stop();
  });

  it('the clock worker process reaches onTimeReceived clients on every node, with ISO times, in both protocols', async () => {
    const clocks = await Promise.all([
      pool.connect(`${nodeA.url}/hubs/clock`),
      pool.connect(`${nodeA.url}/hubs/clock`, { protocol: 'messagepack' }),
      pool.connect(`${nodeB.url}/hubs/clock`),
      pool.connect(`${nodeB.url}/hubs/clock`, { protocol: 'messagepack' }),
    ]);
    const since = Date.now();
    const times = clocks.map((c) => record(c, 'onTimeReceived'));
    await waitFor('3 ticks on every clock client', () => times.every((t) => t.length >= 3), 5000);
    for (const t of times) {
      for (const args of t) {
        expect(args).toHaveLength(1);
        expect(isIsoTime(args[0]), String(args[0])).toBe(true);
      }
      const stamps = t.map(([s]) => Date.parse(s as string));
      expect(stamps).toEqual([...stamps].sort((x, y) => x - y)); // in order
      expect(stamps[0]!).toBeGreaterThan(since - 1000); // live, not replayed
    }
    // One publish per tick reaches every node: the clients on A and B see the same tick values.
    await waitFor('a tick seen on both nodes', () => times[0]!.filter(([s]) => times[2]!.some(([t]) => t === s)).length >= 2, 2000);
    expect(worker.child.exitCode).toBeNull();
  });

  describe('createHubContext<ChatClient> in this test process', () => {
    let ctx: HubContext<ChatClient>;
    let a1: Hub, a2: Hub, b1: Hub, b2: Hub;
    const rec = new Map<Hub, unknown[][]>();
    const id = (c: Hub) => c.connectionId!;
    /** The chat messages a client received from `tag` (the user argument), in order. */
    const got = (c: Hub, tag: string) => rec.get(c)!.filter(([u]) => u === tag).map(([, m]) => m);

    /** Waits until every client has its expected messages from `tag`, then checks nothing else arrives. */
    async function expectDelivery(tag: string, expected: Map<Hub, string[]>) {
      await waitFor(`'${tag}' messages`, () => [...expected].every(([c, m]) => got(c, tag).length >= m.length), 5000);
      await sleep(250);
      for (const [c, m] of expected) expect(got(c, tag), `${tag} on ${c === a1 ? 'a1' : c === a2 ? 'a2' : c === b1 ? 'b1' : 'b2'}`).toEqual(m);
    }

    beforeAll(async () => {
      ctx = createHubContext<ChatClient>({ hub: 'chat', redis: redis.url, prefix });
      [a1, a2, b1, b2] = await Promise.all([
        pool.connect(`${nodeA.url}/hubs/chat`),
        pool.connect(`${nodeA.url}/hubs/chat`, { protocol: 'messagepack' }),
        pool.connect(`${nodeB.url}/hubs/chat`),
        pool.connect(`${nodeB.url}/hubs/chat`, { protocol: 'messagepack' }),
      ]);
      for (const c of [a1, a2, b1, b2]) rec.set(c, record(c, 'ReceiveMessage'));
    });
    afterAll(async () => {
      await ctx?.close();
    });

    it('clients.all, client(id), clients(ids) and allExcept(ids) reach exactly their targets on both nodes', async () => {
      const tag = 'targets';
      await ctx.clients.all.ReceiveMessage(tag, 'all');
      await ctx.clients.client(id(b1)).ReceiveMessage(tag, 'client b1');
      await ctx.clients.client(id(a2)).ReceiveMessage(tag, 'client a2');
      await ctx.clients.clients([id(a1), id(b2), id(a1)]).ReceiveMessage(tag, 'clients a1 b2');
      await ctx.clients.allExcept([id(a1), id(b1)]).ReceiveMessage(tag, 'except a1 b1');
      await expectDelivery(
        tag,
        new Map([
          [a1, ['all', 'clients a1 b2']],
          [a2, ['all', 'client a2', 'except a1 b1']],
          [b1, ['all', 'client b1']],
          [b2, ['all', 'clients a1 b2', 'except a1 b1']],
        ]),
      );
    });

    it('groups.add/remove/count from this process (which holds no connection) change and count groups on both nodes', async () => {
      const tag = 'groups';
      await ctx.groups.add(id(a1), 'g');
      await ctx.groups.add(id(b2), 'g');
      await ctx.groups.add(id(b1), 'h');
      // Counted from this process: each node holding members answers for its own.
      expect(await Promise.all(['g', 'h', 'nobody'].map((g) => ctx.groups.count(g)))).toEqual([2, 1, 0]);
      await ctx.clients.group('g').ReceiveMessage(tag, 'g');
      await ctx.clients.groups(['g', 'h']).ReceiveMessage(tag, 'g+h');
      await ctx.clients.groupExcept('g', [id(b2)]).ReceiveMessage(tag, 'g except b2');
      await expectDelivery(
        tag,
        new Map([
          [a1, ['g', 'g+h', 'g except b2']],
          [a2, []],
          [b1, ['g+h']],
          [b2, ['g', 'g+h']],
        ]),
      );

      const tag2 = 'groups after remove';
      await ctx.groups.remove(id(b2), 'g');
      await ctx.clients.group('g').ReceiveMessage(tag2, 'g without b2');
      expect(await ctx.groups.count('g')).toBe(1);
      await ctx.groups.remove(id(a1), 'g');
      expect(await ctx.groups.count('g')).toBe(0);
      await ctx.clients.group('g').ReceiveMessage(tag2, 'g empty'); // resolves; nobody gets it
      await ctx.groups.remove(id(b1), 'not a member'); // harmless
      await ctx.clients.group('h').ReceiveMessage(tag2, 'h');
      await expectDelivery(
        tag2,
        new Map([
          [a1, ['g without b2']],
          [a2, []],
          [b1, ['h']],
          [b2, []],
        ]),
      );
    });

    it('groups.add/remove for an unknown or disconnected connection id reject at once with SB_CONNECTION_NOT_FOUND', async () => {
      for (const attempt of [ctx.groups.add('no-such-connection', 'g'), ctx.groups.remove('no-such-connection', 'g')]) {
        const r = await timed(attempt);
        expect(r.error).toMatchObject({ name: 'SwitchboardError', code: 'SB_CONNECTION_NOT_FOUND' });
        expect(r.error!.message).toMatch(/Connection 'no-such-connection' does not exist on any hub node/);
        expect(r.ms).toBeLessThan(1000);
      }
      // A connection that was on node B and left: its channel is gone once B processed the close.
      const gone = await pool.connect(`${nodeB.url}/hubs/chat`);
      const goneId = id(gone);
      await ctx.groups.add(goneId, 'g2'); // works while connected
      await gone.stop();
      await waitFor('the closed connection to be unknown', () => ctx.groups.add(goneId, 'g2').then(() => false, (e: { code?: string }) => e.code === 'SB_CONNECTION_NOT_FOUND'), 3000, 50);
      // Sends to it resolve and do nothing (at-most-once, no error for absent targets).
      await expect(ctx.clients.client(goneId).ReceiveMessage('x', 'y')).resolves.toBeUndefined();
    });

    it('a connection id is reachable from this process as soon as the client start() resolved', async () => {
      // A browser connects, hands its id to a worker, and the worker adds it to a group at once.
      for (let i = 0; i < 6; i++) {
        const fresh = await pool.connect(`${(i % 2 ? nodeB : nodeA).url}/hubs/chat`);
        const calls = record(fresh, 'ReceiveMessage');
        await expect(ctx.groups.add(id(fresh), `fresh-${i}`), `client ${i}`).resolves.toBeUndefined();
        await ctx.clients.group(`fresh-${i}`).ReceiveMessage('fresh', `group ${i}`);
        await ctx.clients.client(id(fresh)).ReceiveMessage('fresh', `client ${i}`);
        await waitFor(`client ${i} messages`, () => calls.length === 2, 3000);
        expect(calls).toEqual([
          ['fresh', `group ${i}`],
          ['fresh', `client ${i}`],
        ]);
        await fresh.stop();
      }
    });

    it('the hub name is case-insensitive, and another hub name reaches no chat client', async () => {
      const warnings: string[] = [];
      const logger = { debug() {}, info() {}, warn: (_o: object, msg?: string) => void warnings.push(msg ?? ''), error() {} };
      const upper = createHubContext<ChatClient>({ hub: 'Chat', redis: redis.url, prefix });
      const other = createHubContext<ChatClient>({ hub: 'clock', redis: redis.url, prefix });
      const otherPrefix = createHubContext<ChatClient>({ hub: 'chat', redis: redis.url, prefix: `${prefix}other:`, logger });
      try {
        await upper.clients.all.ReceiveMessage('case', 'via Chat');
        await other.clients.all.ReceiveMessage('case', 'via clock');
        await otherPrefix.clients.all.ReceiveMessage('case', 'via other prefix');
        await expectDelivery('case', new Map([a1, a2, b1, b2].map((c) => [c, ['via Chat']])));
        // The nodes serve 'clock' too (no chat client gets it, but it is heard); nobody serves the other prefix.
        expect([upper.stats(), other.stats()]).toEqual([{ sends: 1, noReceivers: 0, unheard: 0 }, { sends: 1, noReceivers: 0, unheard: 0 }]);
        expect(otherPrefix.stats()).toEqual({ sends: 1, noReceivers: 1, unheard: 1 });
        expect(warnings).toEqual([expect.stringContaining("no hub node is subscribed to hub 'chat'")]);
      } finally {
        await Promise.all([upper.close(), other.close(), otherPrefix.close()]);
      }
    });

    it('an existing ioredis client works, stays open and clean after close(), and close() twice is fine', async () => {
      const client = new Redis(redis.url);
      try {
        const listeners = () => ['error', 'ready', 'end', 'close'].map((e) => client.listenerCount(e));
        await waitFor('the client to connect', () => client.status === 'ready', 3000);
        const before = listeners();
        const own = createHubContext<ChatClient>({ hub: 'chat', redis: client, prefix });
        await own.clients.client(id(b1)).ReceiveMessage('own client', 'to b1');
        await own.groups.add(id(a2), 'own'); // a request: opens the context's own subscriber connection
        await own.clients.group('own').ReceiveMessage('own client', 'to group own');
        await expectDelivery('own client', new Map([[a1, []], [a2, ['to group own']], [b1, ['to b1']], [b2, []]]));

        await own.close();
        await own.close();
        expect(client.status).toBe('ready');
        expect(await client.ping()).toBe('PONG');
        expect(await client.publish(`${prefix}unrelated`, 'still usable')).toBe(0);
        expect(listeners()).toEqual(before); // the context left nothing attached to the caller's client
        // A closed context refuses to send (it does not keep using the caller's client).
        await expect(own.clients.all.ReceiveMessage('own client', 'after close')).rejects.toMatchObject({ code: 'SB_BACKPLANE_UNAVAILABLE' });
      } finally {
        await client.quit();
      }
    });
  });

  it('a process that sends through hub contexts and closes them exits by itself (no open handles)', async () => {
    const a1 = await pool.connect(`${nodeA.url}/hubs/chat`);
    const b1 = await pool.connect(`${nodeB.url}/hubs/chat`);
    const recA = record(a1, 'ReceiveMessage');
    const recB = record(b1, 'ReceiveMessage');
    // Top-level await only: if a timer, socket or Redis connection stayed open, the process would not exit.
    const script = `
      import { createHubContext } from '@switchboard/hub-context';
      import { Redis } from 'ioredis';
      const { REDIS_URL: url, REDIS_PREFIX: prefix } = process.env;
      const a = createHubContext({ hub: 'chat', redis: url, prefix });
      await a.clients.all.ReceiveMessage('child', 'through a url');
      await a.groups.add('no-such-connection', 'g').catch((e) => console.log('add:', e.code));
      const client = new Redis(url);
      const b = createHubContext({ hub: 'chat', redis: client, prefix });
      await b.clients.all.ReceiveMessage('child', 'through an existing client');
      await b.groups.add('no-such-connection', 'g').catch((e) => console.log('add:', e.code));
      await a.close(); await a.close(); await b.close(); await b.close();
      console.log('client after close:', client.status, await client.ping());
      await client.quit();
      console.log('closed');
      setTimeout(() => console.log('still running; open handles:', process.getActiveResourcesInfo().join(',')), 3000).unref();
    `;
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], {
      cwd: REPO_ROOT,
      env: { ...process.env, REDIS_URL: redis.url, REDIS_PREFIX: prefix },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const code = await new Promise<number | null | 'timeout'>((resolve) => {
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        resolve('timeout');
      }, 8000);
      child.once('exit', (c) => {
        clearTimeout(timer);
        resolve(c);
      });
    });
    expect({ code, out }).toEqual({ code: 0, out: 'add: SB_CONNECTION_NOT_FOUND\nadd: SB_CONNECTION_NOT_FOUND\nclient after close: ready PONG\nclosed\n' });
    await waitFor('the child process messages on both nodes', () => [recA, recB].every((r) => r.length === 2));
    for (const r of [recA, recB]) expect(r).toEqual([['child', 'through a url'], ['child', 'through an existing client']]);
  });
});
