import type { ConnectionStats } from '../telemetry/metrics.js';

/** What `countOpen` reads of a connection (HubConnection has it). */
export interface CountedConnection {
  /** Opened (handshake done, reported) and not closed. */
  readonly isOpen: boolean;
  readonly endpoint: { readonly name: string };
  readonly transport: { readonly name: string };
  readonly protocol: { readonly name: string };
}

/** Counts the open connections (handshake done, not closed) by hub, transport and protocol. */
export function countOpen(all: Iterable<CountedConnection>): ConnectionStats {
  const byHub: Record<string, number> = {};
  const byTransport: Record<string, number> = {};
  const byProtocol: Record<string, number> = {};
  let connections = 0;
  for (const c of all) {
    if (!c.isOpen) continue;
    connections++;
    byHub[c.endpoint.name] = (byHub[c.endpoint.name] ?? 0) + 1;
    byTransport[c.transport.name] = (byTransport[c.transport.name] ?? 0) + 1;
    byProtocol[c.protocol.name] = (byProtocol[c.protocol.name] ?? 0) + 1;
  }
  return { connections, byHub, byTransport, byProtocol };
}
