import { jsonHubProtocol, type HubProtocol } from '@switchboard/protocol';
import { describe, expect, it, vi } from 'vitest';
import type { Logger } from '../logger.js';
import { OutboundMessage, type LocalConnection } from '../scaleout.js';
import { BusScaleOut } from './bus-scaleout.js';
import { EnvelopeKind, TargetKind, encodeEnvelope } from './envelope.js';
import { MemoryBroker } from './memory-bus.js';
import type { BackplaneMetrics } from './scaleout-options.js';
import { wallClockMs } from './wall-clock.js';

// The publish time a send carries, and the delay a receiving node reports from it (BackplaneMetrics).

const settle = () => new Promise<void>((r) => setImmediate(r));

class Conn implements LocalConnection {
  readonly frames: Uint8Array[] = [];
  readonly protocol: HubProtocol = jsonHubProtocol;
  readonly userId = undefined;
  constructor(readonly connectionId: string) {}
  writeFramed(bytes: Uint8Array): void {
    this.frames.push(bytes);
  }
  invokeClient(): Promise<unknown> {
    return Promise.resolve(null);
  }
}

function logger() {
  return { debug: vi.fn(), info: vi.fn(), warn: vi.fn(), error: vi.fn() } satisfies Logger;
}

function node(broker: MemoryBroker, serverId: string, metrics?: BackplaneMetrics, role: 'node' | 'publisher' = 'node') {
  const log = logger();
  const scaleOut = new BusScaleOut({ bus: broker.bus(), hubName: 'jobs', serverId, logger: log, role, ...(metrics ? { metrics } : {}) });
  return { scaleOut, log };
}

const tick = (n: number) => OutboundMessage.invocation('tick', [n]);

describe('send delay over the backplane', () => {
  it('a node reports each send from a publisher or another node once, with its hub and a delay from the publish time', async () => {
    const broker = new MemoryBroker();
    const arrived: [string, number][] = [];
    const a = node(broker, 'A', { sendArrived: (hub, ms) => arrived.push([hub, ms]) });
    const c1 = new Conn('c1');
    await a.scaleOut.onConnected(c1);
    await a.scaleOut.addToGroup('c1', 'job:1');
    const worker = node(broker, 'W', undefined, 'publisher');
    const other = node(broker, 'B');

    const before = wallClockMs();
    await worker.scaleOut.sendGroup('job:1', tick(1));
    await other.scaleOut.sendAll(tick(2));
    await a.scaleOut.sendAll(tick(3)); // its own send: written locally, never reported
    await settle();
    const after = wallClockMs();

    expect(c1.frames).toHaveLength(3);
    expect(arrived.map(([hub]) => hub)).toEqual(['jobs', 'jobs']);
    for (const [, ms] of arrived) {
      expect(ms).toBeGreaterThanOrEqual(0);
      expect(ms).toBeLessThanOrEqual(after - before + 1);
    }
  });

  it('the publish time travels in the envelope: a send stamped 40 ms ago reports about 40 ms; one from a clock ahead reports 0', async () => {
    const broker = new MemoryBroker();
    const delays: number[] = [];
    const a = node(broker, 'A', { sendArrived: (_hub, ms) => delays.push(ms) });
    await a.scaleOut.onConnected(new Conn('c1'));
    const raw = broker.bus();
    const send = (sentAt?: number) =>
      raw.publish('sb:jobs:all', encodeEnvelope({ kind: EnvelopeKind.Send, origin: 'X', target: TargetKind.All, name: '', excluded: [], payloads: new Map([['json', tick(0).framed(jsonHubProtocol)]]), ...(sentAt === undefined ? {} : { sentAt }) }));
    expect(await send(wallClockMs() - 40)).toBe(1);
    await send(wallClockMs() + 60_000);
    await send(); // an older version's envelope: delivered, not reported
    await settle();
    expect(delays).toHaveLength(2);
    expect(delays[0]).toBeGreaterThanOrEqual(40);
    expect(delays[0]).toBeLessThan(40 + 50);
    expect(delays[1]).toBe(0);
    expect(a.log.warn).not.toHaveBeenCalled();
  });

  it('a hook that throws is logged; the send is still delivered', async () => {
    const broker = new MemoryBroker();
    const a = node(broker, 'A', {
      sendArrived: () => {
        throw new Error('metrics broke');
      },
    });
    const c1 = new Conn('c1');
    await a.scaleOut.onConnected(c1);
    await node(broker, 'W', undefined, 'publisher').scaleOut.sendAll(tick(7));
    await settle();
    expect(c1.frames).toHaveLength(1);
    expect(a.log.warn).toHaveBeenCalledWith(expect.objectContaining({ err: expect.objectContaining({ message: 'metrics broke' }) }), 'backplane: the sendArrived metrics hook threw');
  });
});
