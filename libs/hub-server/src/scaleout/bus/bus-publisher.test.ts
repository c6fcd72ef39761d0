import { SwitchboardError, jsonHubProtocol, messagePackHubProtocol } from '@switchboard/protocol';
import { describe, expect, it, vi } from 'vitest';
import { silentLogger } from '../../telemetry/logger.js';
import { OutboundMessage } from '../scaleout.js';
import type { Bus } from './bus.js';
import { BusPublisher } from './bus-publisher.js';
import { EnvelopeKind, TargetKind, decodeEnvelope } from './envelope.js';
import { SendMetrics } from './send-metrics.js';

/** A bus whose publish does what the test says, recording what it was given. */
function bus(publish: Bus['publish']): Bus & { sent: [string, Uint8Array][] } {
  const sent: [string, Uint8Array][] = [];
  return {
    sent,
    connected: true,
    publish: (channel, payload) => {
      sent.push([channel, payload]);
      return publish(channel, payload);
    },
    subscribe: async () => {},
    unsubscribe: async () => {},
    onMessage: () => () => {},
    close: async () => {},
  };
}

const protocols = [jsonHubProtocol, messagePackHubProtocol];
const noMetrics = new SendMetrics('hub', undefined, silentLogger);

describe('BusPublisher', () => {
  it('publishes a send envelope with the message framed for every protocol, and reports the receivers', async () => {
    const sendPublished = vi.fn();
    const b = bus(async () => 3);
    const publisher = new BusPublisher(b, 'origin-1', protocols, new SendMetrics('hub', { sendPublished }, silentLogger));
    const message = OutboundMessage.invocation('note', ['hi']);
    await publisher.send('sb:hub:group:g', TargetKind.Group, 'g', message, ['c9'], true);
    const [channel, bytes] = b.sent[0]!;
    expect(channel).toBe('sb:hub:group:g');
    const e = decodeEnvelope(bytes);
    expect(e).toMatchObject({ kind: EnvelopeKind.Send, origin: 'origin-1', target: TargetKind.Group, name: 'g', excluded: ['c9'], final: true });
    expect(e.kind === EnvelopeKind.Send && [...e.payloads]).toEqual([
      ['json', message.framed(jsonHubProtocol)],
      ['messagepack', message.framed(messagePackHubProtocol)],
    ]);
    expect(e.kind === EnvelopeKind.Send && Math.abs(e.sentAt! - Date.now())).toBeLessThan(5000);
    expect(sendPublished).toHaveBeenCalledWith('hub', 'group', 3);
  });

  it('a bus error that is not a SwitchboardError rejects as SB_BACKPLANE_UNAVAILABLE, thrown or rejected; a SwitchboardError as it is', async () => {
    const message = OutboundMessage.invocation('note', []);
    const thrower = new BusPublisher(bus(() => { throw new Error('socket gone'); }), 'o', protocols, noMetrics);
    const rejecter = new BusPublisher(bus(async () => { throw new Error('refused'); }), 'o', protocols, noMetrics);
    const own = new SwitchboardError('SB_BACKPLANE_UNAVAILABLE', 'Redis is unreachable');
    const passes = new BusPublisher(bus(async () => { throw own; }), 'o', protocols, noMetrics);
    await expect(thrower.send('c', TargetKind.All, '', message, undefined, false)).rejects.toMatchObject({ code: 'SB_BACKPLANE_UNAVAILABLE', message: expect.stringContaining('socket gone') });
    await expect(rejecter.envelope('c', { kind: EnvelopeKind.TransportAbort, requestId: 'r', replyTo: 'x' })).rejects.toMatchObject({ code: 'SB_BACKPLANE_UNAVAILABLE', message: expect.stringContaining('refused') });
    await expect(passes.send('c', TargetKind.All, '', message, undefined, false)).rejects.toBe(own);
  });

  it('a message that cannot be framed throws its own error before anything is published', () => {
    const b = bus(async () => 1);
    const cyclic: Record<string, unknown> = {};
    cyclic['self'] = cyclic;
    expect(() => new BusPublisher(b, 'o', protocols, noMetrics).send('c', TargetKind.All, '', OutboundMessage.invocation('note', [cyclic]), undefined, false)).toThrow(TypeError);
    expect(b.sent).toHaveLength(0);
  });
});
