import type { JobsClient, JobState, JobUpdate } from '@switchboard/contracts';
import type { ClientProxy } from '@switchboard/hub-server';
import { describe, expect, it } from 'vitest';
import { lostUpdate } from './job-store.js';
import { endsWatch, publishUpdates } from './publish-updates.js';

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
});
