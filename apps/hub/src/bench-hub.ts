import type { BenchClient, BenchServer } from '@switchboard/contracts';
import { defineHub, HubError, type ServerMethodsOf } from '@switchboard/hub-server';

function groupName(name: unknown): string {
  if (typeof name !== 'string' || name.length === 0 || name.length > 200) throw new HubError('The group name must be a string of 1 to 200 characters.');
  return name;
}

/**
 * The benchmark hub at /hubs/bench (only with BENCH_HUB=1): clients join groups, and a publisher
 * sends `tick(payload)` to a group through the hub context
 * (`createHubContext<BenchClient>({ hub: 'bench', redis }).clients.group(name).tick(payload)`).
 */
export const benchHub = defineHub<BenchClient>()({
  methods: {
    JoinGroup: async (ctx, name: string) => {
      await ctx.groups.add(ctx.connectionId, groupName(name));
    },
    LeaveGroup: async (ctx, name: string) => {
      await ctx.groups.remove(ctx.connectionId, groupName(name));
    },
  },
});

// The hub must serve exactly the contract's server methods (a compile error otherwise).
const _contract: BenchServer = {} as ServerMethodsOf<typeof benchHub>;
void _contract;
