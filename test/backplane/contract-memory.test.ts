import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { BusScaleOut, HubServer, MemoryBroker, MemoryScaleOut, type Logger, type ScaleOutFactory } from '@switchboard/hub-server';
import { CONTRACT_HUB_PATH, contractAuthenticate, contractHub } from './contract-hub.js';
import { scaleOutContract, type ContractNodes } from './contract-suite.js';

const SECRET = 'contract-memory-secret-32-bytes!';
const CLIENT_RESULT_TIMEOUT_MS = 1000;

/** Keeps error-level entries (the suite checks there are none); drops the rest. */
function errorLog(): Logger & { lines: string[] } {
  const lines: string[] = [];
  return { lines, debug() {}, info() {}, warn() {}, error: (obj, msg) => void lines.push(`${msg ?? ''} ${JSON.stringify(obj, (_k, v) => (v instanceof Error ? v.stack : v))}`) };
}

async function startNode(scaleOut: ScaleOutFactory, logger: Logger): Promise<{ url: string; close(): Promise<void> }> {
  const hubs = new HubServer({ secret: SECRET, logger, authenticate: contractAuthenticate, scaleOut, clientResultTimeoutMs: CLIENT_RESULT_TIMEOUT_MS });
  hubs.mapHub(CONTRACT_HUB_PATH, contractHub);
  const server: Server = createServer();
  hubs.attach(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: async () => {
      await hubs.close();
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

// Two HubServers in this process, each with its own BusScaleOut over one shared MemoryBroker.
scaleOutContract('BusScaleOut over a MemoryBroker: two HubServers in one process', async (): Promise<ContractNodes> => {
  const broker = new MemoryBroker();
  const log = errorLog();
  const factory: ScaleOutFactory = (hub) => new BusScaleOut({ bus: broker.bus(), hubName: hub, logger: log });
  const [a, b] = await Promise.all([startNode(factory, log), startNode(factory, log)]);
  return {
    urls: [a.url, b.url],
    clientResultTimeoutMs: CLIENT_RESULT_TIMEOUT_MS,
    errorLines: () => log.lines,
    close: async () => {
      await Promise.all([a.close(), b.close()]);
    },
  };
});

// One node with the default single-node scale-out: "A" and "B" are the same node, so every case
// holds with one node; the cross-node-only cases skip themselves.
scaleOutContract('MemoryScaleOut: one HubServer', async (): Promise<ContractNodes> => {
  const log = errorLog();
  const node = await startNode(() => new MemoryScaleOut(), log);
  return { urls: [node.url, node.url], clientResultTimeoutMs: CLIENT_RESULT_TIMEOUT_MS, errorLines: () => log.lines, close: () => node.close() };
});
