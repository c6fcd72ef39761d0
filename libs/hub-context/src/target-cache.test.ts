import { BusScaleOut, MemoryBroker, type HubClients, type LocalConnection } from '@switchboard/hub-server/backplane';
import { describe, expect, it, vi } from 'vitest';
import { createHubContext } from './index.js';
import { ProxyCache, TARGET_CACHE_SIZE, cachedTargets } from './target-cache.js';

interface Client {
  note(text: string): void;
}

describe('ProxyCache', () => {
  it('makes a name once and hands the same object out again', () => {
    const make = vi.fn((name: string) => ({ name }));
    const cache = new ProxyCache(make, 4);
    const a = cache.get('a');
    expect(cache.get('a')).toBe(a);
    expect(make).toHaveBeenCalledTimes(1);
  });

  it('stays bounded however many names pass: the oldest-inserted is dropped and made again when asked', () => {
    const make = vi.fn((name: string) => ({ name }));
    const cache = new ProxyCache(make, 100);
    for (let i = 0; i < 100_000; i++) cache.get(`job:${i}`);
    expect(cache.size).toBe(100);
    expect(make).toHaveBeenCalledTimes(100_000);
    const recent = cache.get('job:99999');
    expect(make).toHaveBeenCalledTimes(100_000);
    expect(cache.get('job:0')).toEqual({ name: 'job:0' }); // dropped long ago: made again
    expect(make).toHaveBeenCalledTimes(100_001);
    expect(cache.size).toBe(100);
    expect(cache.get('job:99999')).toBe(recent);
  });

  it('defaults to TARGET_CACHE_SIZE entries', () => {
    const cache = new ProxyCache((n) => n);
    for (let i = 0; i < TARGET_CACHE_SIZE + 10; i++) cache.get(String(i));
    expect(cache.size).toBe(TARGET_CACHE_SIZE);
  });
});

describe('cachedTargets', () => {
  const base = () => {
    const calls: string[] = [];
    const proxy = (what: string) => ({ what }) as never;
    const clients = {
      all: proxy('all'),
      allExcept: () => proxy('allExcept'),
      client: (id: string) => (calls.push(`client ${id}`), proxy(`client ${id}`)),
      clients: () => proxy('clients'),
      group: (name: string) => (calls.push(`group ${name}`), proxy(`group ${name}`)),
      groups: () => proxy('groups'),
      groupExcept: () => proxy('groupExcept'),
      groupFinal: (name: string) => (calls.push(`final ${name}`), proxy(`final ${name}`)),
      groupVia: (name: string) => (calls.push(`via ${name}`), proxy(`via ${name}`)),
      user: (id: string) => (calls.push(`user ${id}`), proxy(`user ${id}`)),
      users: () => proxy('users'),
      invoke: async () => undefined as never,
    } satisfies HubClients<Client>;
    return { clients, calls };
  };

  it('builds group, user and client proxies once per name, each kind in its own cache; the rest passes through', () => {
    const { clients, calls } = base();
    const cached = cachedTargets(clients);
    expect(cached.group('x')).toBe(cached.group('x'));
    expect(cached.user('x')).toBe(cached.user('x'));
    expect(cached.client('x')).toBe(cached.client('x'));
    expect(cached.group('x')).not.toBe(cached.user('x'));
    cached.groupFinal('x');
    cached.groupFinal('x');
    cached.groupVia('x', ['node']); // routed sends: rarely the same twice (a job's last one is final), not kept
    cached.groupVia('x', ['node']);
    expect(calls).toEqual(['group x', 'user x', 'client x', 'final x', 'final x', 'via x', 'via x']);
    expect(cached.all).toBe(clients.all);
    expect(cached.invoke).toBe(clients.invoke);
  });
});

describe('a hub context: cached group proxies still reach their own group', () => {
  it('sends through a kept proxy, through one made again after it was dropped, and to many groups in turn', async () => {
    const broker = new MemoryBroker();
    const node = new BusScaleOut({ bus: broker.bus(), hubName: 'jobs' });
    const got: string[] = [];
    const member = (id: string): LocalConnection => ({
      connectionId: id,
      userId: undefined,
      protocol: { name: 'json' } as LocalConnection['protocol'],
      writeFramed: (bytes) => got.push(`${id} ${Buffer.from(bytes).toString('utf8').slice(0, -1)}`),
      invokeClient: async () => undefined,
    });
    await node.onConnected(member('c1'));
    await node.onConnected(member('c2'));
    await node.addToGroup('c1', 'job:1');
    await node.addToGroup('c2', 'job:2');
    const ctx = createHubContext<Client>({ hub: 'jobs', bus: broker.bus() });
    try {
      const first = ctx.clients.group('job:1');
      expect(ctx.clients.group('job:1')).toBe(first);
      await first.note('a');
      await ctx.clients.group('job:2').note('b');
      for (let i = 0; i < TARGET_CACHE_SIZE + 5; i++) await ctx.clients.group(`other:${i}`).note('nobody');
      expect(ctx.clients.group('job:1')).not.toBe(first); // dropped from the cache, made again
      await ctx.clients.group('job:1').note('c');
      await first.note('d'); // a proxy kept by the caller still works
      await vi.waitFor(() => expect(got).toHaveLength(4));
      expect(got.map((line) => line.replace(/^(c\d) .*"arguments":\["(\w)"\].*$/, '$1 $2'))).toEqual(['c1 a', 'c2 b', 'c1 c', 'c1 d']);
    } finally {
      await ctx.close();
      await node.close();
    }
  });
});
