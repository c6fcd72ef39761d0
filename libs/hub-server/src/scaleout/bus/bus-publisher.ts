import { SwitchboardError, isSwitchboardError, type HubProtocol } from '@switchboard/protocol';
import type { OutboundMessage } from '../scaleout.js';
import type { Bus } from './bus.js';
import { encodeEnvelope, type Envelope, type TargetKind } from './envelope.js';
import { SendEnvelopeWriter } from './send-envelope.js';
import type { SendMetrics } from './send-metrics.js';
import { wallClockMs } from './wall-clock.js';

/**
 * What a BusScaleOut publishes, encoded and handed to the bus. Every send of a hub context
 * comes through `send`, so it does the least per message: the envelope is written straight from
 * the framed bodies by a writer that encoded this origin and the protocol names once (no Map or
 * envelope object per send), and a publish is one promise chain over the bus's (no async
 * wrappers, each of which cost a promise and a microtask).
 */
export class BusPublisher {
  private readonly envelopes: SendEnvelopeWriter;

  constructor(
    private readonly bus: Bus,
    origin: string,
    private readonly protocols: readonly HubProtocol[],
    private readonly report: SendMetrics,
  ) {
    this.envelopes = new SendEnvelopeWriter(origin, protocols.map((p) => p.name));
  }

  /**
   * A send envelope with the message framed for every protocol. A framing error (a cyclic
   * argument) is thrown as it is: callers are async, so it rejects their send.
   */
  send(channel: string, target: TargetKind, name: string, message: OutboundMessage, excluded: readonly string[] | undefined, final: boolean): Promise<void> {
    const bodies: Uint8Array[] = [];
    for (const p of this.protocols) bodies.push(message.framed(p));
    let sent: Promise<number>;
    try {
      sent = this.bus.publish(channel, this.envelopes.encode(target, name, excluded ?? NOBODY, bodies, wallClockMs(), final));
    } catch (err) {
      return Promise.reject(rejected(err));
    }
    return sent.then(this.report.publishes ? (receivers) => this.report.published(target, receivers) : ignore, rethrow);
  }

  /** Any other envelope (requests, replies); resolves with the receiver count. Any failure, encoding included, rejects with a SwitchboardError. */
  envelope(channel: string, envelope: Envelope): Promise<number> {
    let sent: Promise<number>;
    try {
      sent = this.bus.publish(channel, encodeEnvelope(envelope));
    } catch (err) {
      return Promise.reject(rejected(err));
    }
    return sent.then(undefined, rethrow);
  }
}

const NOBODY: readonly string[] = [];
const ignore = (): void => {};
const rethrow = (err: unknown): never => {
  throw rejected(err);
};

function rejected(err: unknown): SwitchboardError {
  if (isSwitchboardError(err)) return err;
  return new SwitchboardError('SB_BACKPLANE_UNAVAILABLE', `The backplane rejected a publish (${(err as Error).message}); connections on this node were served, other nodes were not.`, { cause: err });
}
