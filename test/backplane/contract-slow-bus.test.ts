import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { BusScaleOut, HubServer, MemoryBroker, type Bus, type Logger } from '@switchboard/hub-server';
import { delay } from '../support/signalr.js';
import { CONTRACT_HUB_PATH, contractAuthenticate, contractHub } from './contract-hub.js';
import { scaleOutContract } from './contract-suite.js';

/**
 * A bus with Redis-like subscription latency: subscribe/unsubscribe are applied one at a time,
 * each `latencyMs` after the previous one (the RedisBus applies them in order over one
 * connection). Widens the windows in which a node is not yet subscribed, so a scale-out that
 * resolves a change before its subscription is in effect fails the contract deterministically.
 */
class SlowSubscriptionBus implements Bus {
  private chain: Promise<void> = Promise.resolve();

  constructor(
    private readonly inner: Bus,
    private readonly latencyMs: number,
  ) {}

  get connected(): boolean {
    return this.inner.connected;
  }

  publish(channel: string, payload: Uint8Array): Promise<number> {
    return this.inner.publish(channel, payload);
  }

  subscribe(channel: string): Promise<void> {
    return this.enqueue(() => this.inner.subscribe(channel));
  }

  unsubscribe(channel: string): Promise<void> {
    return this.enqueue(() => this.inner.unsubscribe(channel));
  }

  private enqueue(op: () => Promise<void>): Promise<void> {
    const next = this.chain.then(() => delay(this.latencyMs)).then(op);
    this.chain = next.catch(() => {});
    return next;
  }

  onMessage(listener: (channel: string, payload: Uint8Array) => void): () => void {
    return this.inner.onMessage(listener);
  }

  close(): Promise<void> {
    return this.inner.close();
  }
}

const SECRET = 'contract-slowbus-secret-32-bytes';
const CLIENT_RESULT_TIMEOUT_MS = 1000;

scaleOutContract('BusScaleOut over a MemoryBroker with 40 ms subscription latency: two HubServers', async () => {
  const broker = new MemoryBroker();
  const errors: string[] = [];
  const logger: Logger = { debug() {}, info() {}, warn() {}, error: (obj, msg) => void errors.push(`${msg ?? ''} ${JSON.stringify(obj)}`) };
  const nodes = await Promise.all(
    [0, 1].map(async () => {
      const hubs = new HubServer({
        secret: SECRET,
        logger,
        authenticate: contractAuthenticate,
        clientResultTimeoutMs: CLIENT_RESULT_TIMEOUT_MS,
        scaleOut: (hub) => new BusScaleOut({ bus: new SlowSubscriptionBus(broker.bus(), 40), hubName: hub, logger }),
      });
      hubs.mapHub(CONTRACT_HUB_PATH, contractHub);
      const server: Server = createServer();
      hubs.attach(server);
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      return { hubs, server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
    }),
  );
  return {
    urls: [nodes[0]!.url, nodes[1]!.url],
    clientResultTimeoutMs: CLIENT_RESULT_TIMEOUT_MS,
    errorLines: () => errors,
    close: async () => {
      for (const n of nodes) {
        await n.hubs.close();
        n.server.closeAllConnections();
        await new Promise((resolve) => n.server.close(resolve));
      }
    },
  };
});
