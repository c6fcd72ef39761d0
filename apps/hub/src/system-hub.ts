import type { ConnectionInfo, SystemClient, SystemServer, SystemStats } from '@switchboard/contracts';
import { defineHub, HubError, type ServerMethodsOf } from '@switchboard/hub-server';

/**
 * The system hub at /hubs/system: `whoami()` → ConnectionInfo (which node and process serve the
 * caller, over which transport and protocol); `stats()` → SystemStats now. Client method:
 * `systemStats(stats)`, pushed about once a second by the leader node (see SystemMonitor);
 * clients only listen, they never need to poll.
 */
export function createSystemHub(nodeId: string, stats: () => Promise<SystemStats>) {
  const hub = defineHub<SystemClient>()({
    methods: {
      whoami: (ctx): ConnectionInfo => ({
        nodeId,
        pid: process.pid,
        connectionId: ctx.connectionId,
        transport: ctx.transport,
        protocol: ctx.protocol,
        ...(ctx.user ? { user: ctx.user.id } : {}),
      }),
      stats: async (): Promise<SystemStats> => {
        try {
          return await stats();
        } catch {
          throw new HubError('The system view is unavailable: this node cannot reach Redis right now. systemStats pushes resume when it returns.');
        }
      },
    },
  });
  // The hub must serve exactly the contract's server methods (a compile error otherwise).
  const _contract: SystemServer = {} as ServerMethodsOf<typeof hub>;
  void _contract;
  return hub;
}
