// Invocations with more arguments than the hub method declares are refused with ASP.NET's binding
// failure text (its InvalidDataException detail included); the connection stays usable.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { defineHub, HubServer, method, uploadMethod } from '@switchboard/hub-server';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { capturingLogger, TEST_SECRET, within } from './fixture.js';
import { clientPool, collectStream, delay, PROTOCOLS, signalR, type TransportName } from '../support/signalr.js';

const ran: string[] = [];
const hub = defineHub<Record<string, never>>()({
  methods: {
    Echo: (_ctx, message: unknown) => {
      ran.push(`Echo ${JSON.stringify(message)}`);
      return message;
    },
    Pair: (_ctx, a: unknown, b?: unknown) => [a ?? null, b === undefined ? 'missing' : b],
    WithDefault: (_ctx, a: unknown, b: unknown = 'default') => [a, b],
    Sum: (_ctx, ...xs: number[]) => xs.reduce((s, x) => s + x, 0),
    Exact: method((_ctx, a: unknown, b: unknown) => [a, b], { args: 2 }),
    Counter: async function* (_ctx, n: number) {
      for (let i = 0; i < n; i++) yield i;
    },
    Concat: uploadMethod(1, async (_ctx, label: string, items: AsyncIterable<string>) => {
      let out = label;
      for await (const item of items) out += item;
      return out;
    }),
  },
});

let server: HubServer;
let http: Server;
let url: string;
const pool = clientPool();
const refused = (target: string, provided: number, expected: number) =>
  `Failed to invoke '${target}' due to an error on the server. InvalidDataException: Invocation provides ${provided} argument(s) but target expects ${expected}.`;

beforeAll(async () => {
  server = new HubServer({ secret: TEST_SECRET, logger: capturingLogger() });
  server.mapHub('/args', hub);
  http = createServer();
  server.attach(http);
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(http.address() as AddressInfo).port}/args`;
});
afterEach(() => pool.stopAll());
afterAll(async () => {
  await server.close();
  http.closeAllConnections();
  await new Promise<void>((resolve) => http.close(() => resolve()));
});

describe.each(PROTOCOLS.flatMap((protocol) => (['WebSockets', 'LongPolling'] as TransportName[]).map((transport) => [protocol, transport] as const)))(
  'argument counts (%s over %s, official client)',
  (protocol, transport) => {
    const connect = () => within(pool.connect(url, { protocol, transport }), 5000, 'start');

    it('an extra argument gets the error Completion, the method does not run, and the connection keeps working', async () => {
      const c = await connect();
      ran.length = 0;
      await expect(c.invoke('Echo', 'a', 'extra')).rejects.toThrow(refused('Echo', 2, 1));
      // The target as the client sent it, as ASP.NET.
      await expect(c.invoke('echo', 1, 2, 3)).rejects.toThrow(refused('echo', 3, 1));
      expect(ran).toEqual([]);
      expect(await c.invoke('Echo', 'still here')).toBe('still here');
      expect(c.state).toBe(signalR.HubConnectionState.Connected);
    });

    it('send() with an extra argument: no answer, and the method does not run', async () => {
      const c = await connect();
      ran.length = 0;
      await c.send('Echo', 'sent', 'extra');
      expect(await c.invoke('Echo', 'after')).toBe('after');
      expect(ran).toEqual(['Echo "after"']);
    });

    it('fewer arguments still run (optional parameters); defaulted parameters count; a rest parameter takes any number', async () => {
      const c = await connect();
      expect(await c.invoke('Pair', 1)).toEqual([1, 'missing']);
      expect(await c.invoke('Pair')).toEqual([null, 'missing']);
      expect(await c.invoke('WithDefault', 1)).toEqual([1, 'default']);
      expect(await c.invoke('WithDefault', 1, 2)).toEqual([1, 2]);
      await expect(c.invoke('WithDefault', 1, 2, 3)).rejects.toThrow(refused('WithDefault', 3, 2));
      expect(await c.invoke('Sum', 1, 2, 3, 4, 5)).toBe(15);
    });

    it('method(fn, { args }) keeps its exact count, fewer and more', async () => {
      const c = await connect();
      expect(await c.invoke('Exact', 1, 2)).toEqual([1, 2]);
      await expect(c.invoke('Exact', 1)).rejects.toThrow(refused('Exact', 1, 2));
      await expect(c.invoke('Exact', 1, 2, 3)).rejects.toThrow(refused('Exact', 3, 2));
    });

    it('streams and upload methods: upload streams are not plain arguments', async () => {
      const c = await connect();
      expect(await collectStream(c.stream<number>('Counter', 3))).toEqual([0, 1, 2]);
      await expect(collectStream(c.stream('Counter', 3, 'extra'))).rejects.toThrow(refused('Counter', 2, 1));
      const ok = new signalR.Subject<string>();
      const result = c.invoke('Concat', 'x:', ok);
      ok.next('a');
      ok.next('b');
      ok.complete();
      expect(await result).toBe('x:ab');
      const extra = new signalR.Subject<string>();
      const refusedUpload = c.invoke('Concat', 'x:', 'extra', extra);
      await expect(refusedUpload).rejects.toThrow(refused('Concat', 2, 1));
      // Items the client still sends for the refused upload are ignored.
      extra.next('late');
      extra.complete();
      await delay(20);
      expect(await c.invoke('Echo', 'usable')).toBe('usable');
    });
  },
);
