import { describe, expect, it } from 'vitest';
import type { JobsService } from '../jobs-service.js';
import { createJobsHub } from './jobs-hub.js';

// The resync after a backplane outage: the node's route goes back into each watched job's record
// only where watchers join routed; a route in a record makes publishers skip the group's channel,
// which the other nodes of a hub without routing listen on.
describe('jobs hub: resync after a backplane outage', () => {
  const ID = 'AAAAAAAAAAAAAAAA';
  async function resync(routedWatching: boolean): Promise<{ peeks: unknown[][]; pushed: unknown[] }> {
    const peeks: unknown[][] = [];
    const pushed: unknown[] = [];
    const service = { peek: async (...args: unknown[]) => (peeks.push(args), { jobId: ID, state: 'active', seq: 3 }) } as unknown as JobsService;
    const hub = createJobsHub(service, { routedWatching });
    await hub.onBackplaneRestored!({
      hub: 'jobs',
      groups: [`job:${ID}`, 'not-a-job-group'],
      route: 'node-1',
      localGroup: () => ({ jobUpdated: async (u: unknown) => void pushed.push(u) }) as never,
    });
    return { peeks, pushed };
  }

  it('registers the node again with each read where watchers join routed', async () => {
    expect(await resync(true)).toEqual({ peeks: [[ID, 'node-1']], pushed: [{ jobId: ID, state: 'active', seq: 3 }] });
  });

  it('reads without registering where watchers join through group channels', async () => {
    expect(await resync(false)).toEqual({ peeks: [[ID, undefined]], pushed: [{ jobId: ID, state: 'active', seq: 3 }] });
  });
});
