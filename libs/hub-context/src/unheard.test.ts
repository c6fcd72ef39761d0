import { BusScaleOut, MemoryBroker, type Bus, type Logger } from '@switchboard/hub-server/backplane';
import { SwitchboardError } from '@switchboard/protocol';
import { describe, expect, it, vi } from 'vitest';
import { createHubContext, hubRef } from './index.js';
import { PRESENCE_TTL_MS, UnheardSends } from './unheard.js';

interface Client {
  note(text: string): void;
}

type LogFn = (obj: object, msg?: string) => void;
function logger() {
  return { debug: vi.fn<LogFn>(), info: vi.fn<LogFn>(), warn: vi.fn<LogFn>(), error: vi.fn<LogFn>() } satisfies Logger;
}

/** A bus that only answers `subscribers` (what UnheardSends uses), counting the calls. */
function probeBus(answer: () => Promise<number>): Bus & { probes: number } {
  const bus = {
    probes: 0,
    connected: true,
    publish: async () => 0,
    subscribe: async () => {},
    unsubscribe: async () => {},
    onMessage: () => () => {},
    close: async () => {},
    subscribers: async () => {
      bus.probes++;
      return answer();
    },
  };
  return bus;
}

const settle = () => new Promise((r) => setTimeout(r, 0));
let names = 0;
/** A hub name no other test used: the warning is once per name and process. */
const fresh = (what: string) => `${what}-${++names}-${Date.now().toString(36)}`;

describe('UnheardSends', () => {
  it("a send to 'all' with no receivers is unheard at once, without asking the bus; warned once per hub name, then debug", () => {
    const bus = probeBus(async () => 0);
    const log = logger();
    const hub = fresh('notification');
    const u = new UnheardSends({ hub, prefix: 'sb:', allChannel: `sb:${hub}:all`, bus, logger: log });
    u.published('all', 0);
    u.published('all', 0);
    expect(u.stats()).toEqual({ sends: 2, noReceivers: 2, unheard: 2 });
    expect(bus.probes).toBe(0);
    expect(log.warn).toHaveBeenCalledTimes(1);
    const [fields, msg] = log.warn.mock.calls[0]!;
    expect(fields).toMatchObject({ hub, prefix: 'sb:', target: 'all', unheard: 1 });
    expect(msg).toContain(`no hub node is subscribed to hub '${hub}'`);
    expect(msg).toContain('check that `hub` matches the last path segment of a mapped hub');
    expect(msg).toContain('REDIS_PREFIX');
    expect(log.debug).toHaveBeenCalledTimes(1);
    // Another context for the same name in this process: debug only.
    const again = new UnheardSends({ hub, prefix: 'sb:', allChannel: `sb:${hub}:all`, bus, logger: log });
    again.published('all', 0);
    expect(log.warn).toHaveBeenCalledTimes(1);
    expect(log.debug).toHaveBeenCalledTimes(2);
  });

  it('sends someone received are heard, and prove the hub served: an empty group is then only noReceivers, with no probe', async () => {
    const bus = probeBus(async () => 0);
    const log = logger();
    const u = new UnheardSends({ hub: fresh('jobs'), prefix: 'sb:', allChannel: 'x', bus, logger: log });
    u.published('all', 2);
    u.published('group', 1);
    u.published('group', 0);
    u.published('user', 0);
    u.published('connection', 0);
    await settle();
    expect(u.stats()).toEqual({ sends: 5, noReceivers: 3, unheard: 0 });
    expect(bus.probes).toBe(0);
    expect(log.warn).not.toHaveBeenCalled();
  });

  it('a group send with no receivers asks the bus once per PRESENCE_TTL_MS whether any node serves the hub; concurrent sends share one probe', async () => {
    let now = 1_000_000;
    let served = 0;
    const bus = probeBus(async () => served);
    const log = logger();
    const u = new UnheardSends({ hub: fresh('typo'), prefix: 'p:', allChannel: 'p:typo:all', bus, logger: log, now: () => now });
    u.published('group', 0);
    u.published('group', 0);
    u.published('user', 0);
    expect(u.stats().unheard).toBe(0); // not known yet: one probe in flight
    await settle();
    expect(bus.probes).toBe(1);
    expect(u.stats()).toEqual({ sends: 3, noReceivers: 3, unheard: 3 });
    expect(log.warn).toHaveBeenCalledTimes(1);
    // Within the TTL the answer is reused.
    now += PRESENCE_TTL_MS - 1;
    u.published('group', 0);
    expect(u.stats().unheard).toBe(4);
    expect(bus.probes).toBe(1);
    // After it, asked again: a node came up meanwhile, so the empty group is normal.
    now += 2;
    served = 1;
    u.published('group', 0);
    await settle();
    expect(bus.probes).toBe(2);
    expect(u.stats()).toEqual({ sends: 5, noReceivers: 5, unheard: 4 });
  });

  it("a send to 'all' that nobody heard overrides a cached 'served' (no node is left)", () => {
    const bus = probeBus(async () => 1);
    const u = new UnheardSends({ hub: fresh('gone'), prefix: 'sb:', allChannel: 'x', bus, logger: logger() });
    u.published('group', 3);
    u.published('group', 0);
    expect(u.stats().unheard).toBe(0);
    u.published('all', 0);
    u.published('group', 0); // now known unserved: counted at once
    expect(u.stats()).toEqual({ sends: 4, noReceivers: 3, unheard: 2 });
    expect(bus.probes).toBe(0);
  });

  it('a probe that fails counts nothing and is not cached; a bus without subscribers() cannot tell', async () => {
    let fail = true;
    const bus = probeBus(async () => {
      if (fail) throw new SwitchboardError('SB_BACKPLANE_UNAVAILABLE', 'down');
      return 0;
    });
    const log = logger();
    const u = new UnheardSends({ hub: fresh('flaky'), prefix: 'sb:', allChannel: 'x', bus, logger: log });
    u.published('group', 0);
    await settle();
    expect(u.stats().unheard).toBe(0);
    expect(log.debug).toHaveBeenCalledWith(expect.objectContaining({ err: expect.objectContaining({ code: 'SB_BACKPLANE_UNAVAILABLE' }) }), expect.stringContaining('could not ask the backplane'));
    fail = false;
    u.published('group', 0);
    await settle();
    expect(bus.probes).toBe(2);
    expect(u.stats().unheard).toBe(1);

    const { subscribers: _, ...plain } = probeBus(async () => 0);
    const blind = new UnheardSends({ hub: fresh('blind'), prefix: 'sb:', allChannel: 'x', bus: plain as Bus, logger: logger() });
    blind.published('group', 0);
    await settle();
    expect(blind.stats()).toEqual({ sends: 1, noReceivers: 1, unheard: 0 });
  });
});

describe('ctx.stats() over an in-memory bus', () => {
  it('counts unheard sends to a hub no node serves, and none to a served hub (empty groups are noReceivers)', async () => {
    const broker = new MemoryBroker();
    const servedName = fresh('served');
    const node = new BusScaleOut({ bus: broker.bus(), hubName: servedName, prefix: 'mem:' }); // a hub node: subscribes to the all channel
    const log = logger();
    const served = createHubContext({ hub: hubRef<Client>(servedName), bus: broker.bus(), prefix: 'mem:', logger: log });
    const typo = createHubContext({ hub: hubRef<Client>(`${servedName}x`), bus: broker.bus(), prefix: 'mem:', logger: log });
    const wrongPrefix = createHubContext<Client>({ hub: servedName, bus: broker.bus(), prefix: 'other:', logger: log });
    try {
      await new Promise((r) => setTimeout(r, 10)); // the node's subscribe
      await served.clients.all.note('a');
      await served.clients.group('nobody').note('b');
      await served.clients.groups(['g1', 'g2']).note('c');
      await typo.clients.all.note('a');
      await typo.clients.group('g').note('b');
      await wrongPrefix.clients.user('u').note('c');
      await vi.waitFor(() => expect(typo.stats().unheard + wrongPrefix.stats().unheard).toBe(3));
      expect(served.stats()).toEqual({ sends: 4, noReceivers: 3, unheard: 0 });
      expect(typo.stats()).toEqual({ sends: 2, noReceivers: 2, unheard: 2 });
      expect(wrongPrefix.stats()).toEqual({ sends: 1, noReceivers: 1, unheard: 1 });
      expect(log.warn.mock.calls.map(([f]) => (f as { hub: string; prefix: string }).hub + '@' + (f as { prefix: string }).prefix)).toEqual([
        `${servedName}x@mem:`,
        `${servedName}@other:`,
      ]);
    } finally {
      await Promise.all([served.close(), typo.close(), wrongPrefix.close(), node.close()]);
    }
  });
});
