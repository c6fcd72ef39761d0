import type { JobsClient, JobState, JobUpdate } from '@switchboard/contracts';
import type { ClientProxy } from '@switchboard/hub-server';
import { describe, expect, it } from 'vitest';
import { lostUpdate } from './job-store.js';
import { endsWatch, publishUpdates } from './publish-updates.js';
import { attachRoutes } from './watch-routes.js';

describe('publishUpdates', () => {
  it("sends each update to its job's group; completed, cancelled and lost are the group's final send, failed is not (a retry follows it)", async () => {
    const sent: string[] = [];
    const proxy = (how: string, group: string) => ({ jobUpdated: async (u: JobUpdate) => void sent.push(`${how} ${group} ${u.state}`) }) as unknown as ClientProxy<JobsClient>;
    const publish = publishUpdates({ group: (g) => proxy('group', g), groupFinal: (g) => proxy('final', g) });
    const update = (state: JobState) => ({ jobId: 'AAAAAAAAAAAAAAAA', name: 'x', seq: 1, state, progress: 0, attempt: 1, createdAt: 1, updatedAt: 1 }) as JobUpdate;
    for (const state of ['queued', 'delayed', 'active', 'failed', 'completed', 'cancelled'] as const) await publish(update(state));
    await publish(lostUpdate('BBBBBBBBBBBBBBBB'));
    expect(sent).toEqual([
      'group job:AAAAAAAAAAAAAAAA queued',
      'group job:AAAAAAAAAAAAAAAA delayed',
      'group job:AAAAAAAAAAAAAAAA active',
      'group job:AAAAAAAAAAAAAAAA failed',
      'final job:AAAAAAAAAAAAAAAA completed',
      'final job:AAAAAAAAAAAAAAAA cancelled',
      'final job:BBBBBBBBBBBBBBBB lost',
    ]);
    expect(endsWatch({ state: 'failed' })).toBe(false);
  });

  it('an update read with its routes goes through those hub nodes (final when it ends the watch); without routes, to the group', async () => {
    const sent: string[] = [];
    const proxy = (how: string) => ({ jobUpdated: async (u: JobUpdate) => void sent.push(`${how} ${u.state}`) }) as unknown as ClientProxy<JobsClient>;
    const targets = { group: () => proxy('group'), groupFinal: () => proxy('final'), groupVia: (g: string, nodes: readonly string[], final?: boolean) => proxy(`via ${nodes.join('+')} ${g}${final ? ' final' : ''}`) };
    const update = (state: JobState, routes?: string) => attachRoutes({ jobId: 'AAAAAAAAAAAAAAAA', name: 'x', seq: 1, state, progress: 0, attempt: 1, createdAt: 1, updatedAt: 1 } as JobUpdate, routes);
    const publish = publishUpdates(targets);
    await publish(update('active', 'n1 n2'));
    await publish(update('completed', 'n1'));
    await publish(update('active'));
    // The overflow marker: the listed nodes, and the group's channel for the watchers past the list.
    await publish(update('completed', '* n1 n2'));
    // Targets without groupVia (a custom publisher): the group, routes or not.
    await publishUpdates({ group: () => proxy('group'), groupFinal: () => proxy('final') })(update('completed', 'n1'));
    expect(sent).toEqual([
      'via n1+n2 job:AAAAAAAAAAAAAAAA active',
      'via n1 job:AAAAAAAAAAAAAAAA final completed',
      'group active',
      'via n1+n2 job:AAAAAAAAAAAAAAAA final completed',
      'final completed',
      'final completed',
    ]);
  });
});
