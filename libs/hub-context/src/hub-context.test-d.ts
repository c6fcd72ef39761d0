import { describe, expectTypeOf, it } from 'vitest';
import { createHubContext, hubRef, type ClientProxy, type GroupManager, type HubContext, type HubContextStats, type HubRef } from './index.js';

interface JobClient {
  jobUpdated(u: { jobId: string; progress: number }): void;
}

type Update = { jobId: string; progress: number };
type JobProxy = ClientProxy<JobClient>;
type Sender = (u: Update) => Promise<void>;

// Never called: type tests only compile these expressions.
declare const ctx: HubContext<JobClient>;

describe('createHubContext<C>', () => {
  it('returns a context typed by the client interface', () => {
    const made = () => createHubContext<JobClient>({ hub: 'jobs', redis: 'redis://127.0.0.1:6379', prefix: 'sb:' });
    expectTypeOf(made).returns.toEqualTypeOf<HubContext<JobClient>>();
    expectTypeOf(ctx.groups).toEqualTypeOf<GroupManager>();
    expectTypeOf(ctx.close).returns.toEqualTypeOf<Promise<void>>();
  });

  it("ctx.clients.group('job:42').jobUpdated(update) compiles and returns Promise<void>", () => {
    expectTypeOf(ctx.clients.group('job:42').jobUpdated({ jobId: '42', progress: 5 })).toEqualTypeOf<Promise<void>>();
    expectTypeOf(ctx.clients.group('job:42').jobUpdated).toEqualTypeOf<Sender>();
  });

  it('refuses a wrong method name, a wrong argument type, a missing argument and an extra argument', () => {
    // @ts-expect-error: no such client method
    void ctx.clients.group('job:42').jobUpdate({ jobId: '42', progress: 5 });
    // @ts-expect-error: progress must be a number
    void ctx.clients.group('job:42').jobUpdated({ jobId: '42', progress: '5' });
    // @ts-expect-error: jobId must be a string
    void ctx.clients.group('job:42').jobUpdated({ jobId: 42, progress: 5 });
    // @ts-expect-error: the update argument is missing
    void ctx.clients.group('job:42').jobUpdated();
    // @ts-expect-error: the update lacks progress
    void ctx.clients.group('job:42').jobUpdated({ jobId: '42' });
    // @ts-expect-error: one argument only
    void ctx.clients.group('job:42').jobUpdated({ jobId: '42', progress: 5 }, 'extra');
  });

  it('types every target the same way', () => {
    expectTypeOf(ctx.clients.all).toEqualTypeOf<JobProxy>();
    expectTypeOf(ctx.clients.allExcept(['c1'])).toEqualTypeOf<JobProxy>();
    expectTypeOf(ctx.clients.client('c1')).toEqualTypeOf<JobProxy>();
    expectTypeOf(ctx.clients.clients(['c1', 'c2'])).toEqualTypeOf<JobProxy>();
    expectTypeOf(ctx.clients.group('g')).toEqualTypeOf<JobProxy>();
    expectTypeOf(ctx.clients.groups(['g', 'h'])).toEqualTypeOf<JobProxy>();
    expectTypeOf(ctx.clients.groupExcept('g', ['c1'])).toEqualTypeOf<JobProxy>();
    expectTypeOf(ctx.clients.user('u1')).toEqualTypeOf<JobProxy>();
    expectTypeOf(ctx.clients.users(['u1', 'u2'])).toEqualTypeOf<JobProxy>();
    expectTypeOf<JobProxy['jobUpdated']>().toEqualTypeOf<Sender>();
    expectTypeOf<keyof JobProxy>().toEqualTypeOf<'jobUpdated'>();

    // Each target refuses a wrong argument and an unknown method.
    // @ts-expect-error: wrong argument type
    void ctx.clients.all.jobUpdated({ jobId: '1', progress: 'x' });
    // @ts-expect-error: unknown method
    void ctx.clients.all.nope();
    // @ts-expect-error: wrong argument type
    void ctx.clients.allExcept(['c1']).jobUpdated('42');
    // @ts-expect-error: unknown method
    void ctx.clients.allExcept(['c1']).nope();
    // @ts-expect-error: wrong argument type
    void ctx.clients.client('c1').jobUpdated(42);
    // @ts-expect-error: unknown method
    void ctx.clients.client('c1').nope();
    // @ts-expect-error: missing argument
    void ctx.clients.clients(['c1']).jobUpdated();
    // @ts-expect-error: unknown method
    void ctx.clients.clients(['c1']).nope();
    // @ts-expect-error: wrong argument type
    void ctx.clients.groups(['g']).jobUpdated(null);
    // @ts-expect-error: unknown method
    void ctx.clients.groups(['g']).nope();
    // @ts-expect-error: wrong argument type
    void ctx.clients.groupExcept('g', ['c1']).jobUpdated({ jobId: '1', progress: 1n });
    // @ts-expect-error: unknown method
    void ctx.clients.groupExcept('g', ['c1']).nope();
    // @ts-expect-error: missing argument
    void ctx.clients.user('u1').jobUpdated();
    // @ts-expect-error: unknown method
    void ctx.clients.user('u1').nope();
    // @ts-expect-error: wrong argument type
    void ctx.clients.users(['u1']).jobUpdated([]);
    // @ts-expect-error: unknown method
    void ctx.clients.users(['u1']).nope();
  });

  it('types target arguments and group changes', () => {
    // @ts-expect-error: allExcept takes an array of connection ids
    void ctx.clients.allExcept('c1');
    // @ts-expect-error: client takes one connection id string
    void ctx.clients.client(['c1']);
    // @ts-expect-error: groups takes an array of names
    void ctx.clients.groups('g');
    // @ts-expect-error: groupExcept needs the excluded ids
    void ctx.clients.groupExcept('g');
    expectTypeOf(ctx.groups.add).toEqualTypeOf<(connectionId: string, group: string) => Promise<void>>();
    // @ts-expect-error: group name missing
    void ctx.groups.add('c1');
  });

  it('requires a hub name in the options', () => {
    // @ts-expect-error: hub is required
    void (() => createHubContext<JobClient>({ redis: 'redis://127.0.0.1:6379' }));
  });
});

interface ChatClient {
  ReceiveMessage(user: string, message: string): void;
}

// Declared once (in a module the hub node imports too), used by both mapHub and the contexts.
const jobsHub = hubRef<JobClient>('jobs');
const chatHub = hubRef<ChatClient>('chat');
const refs = { jobs: jobsHub, chat: chatHub };
const redis = 'redis://127.0.0.1:6379';

describe('createHubContext({ hub: ref })', () => {
  it('takes the client interface from the ref', () => {
    expectTypeOf(jobsHub).toEqualTypeOf<HubRef<JobClient>>();
    const made = () => createHubContext({ hub: jobsHub, redis });
    expectTypeOf(made).returns.toEqualTypeOf<HubContext<JobClient>>();
    expectTypeOf(() => createHubContext({ hub: refs.chat, redis })).returns.toEqualTypeOf<HubContext<ChatClient>>();
    // Naming C as well is allowed when it is the ref's.
    expectTypeOf(() => createHubContext<JobClient>({ hub: jobsHub, redis })).returns.toEqualTypeOf<HubContext<JobClient>>();
  });

  it('a misspelt hub does not compile', () => {
    // @ts-expect-error: there is no ref named jobHub (the hub is jobsHub)
    void (() => createHubContext({ hub: jobHub, redis }));
    // @ts-expect-error: refs has no hub 'job'
    void (() => createHubContext({ hub: refs.job, redis }));
  });

  it('a ref is not accepted for another client interface', () => {
    // @ts-expect-error: jobsHub carries JobClient, not ChatClient
    void (() => createHubContext<ChatClient>({ hub: jobsHub, redis }));
    // @ts-expect-error: the context of jobsHub is a HubContext<JobClient>
    void ((): HubContext<ChatClient> => createHubContext({ hub: jobsHub, redis }));
  });

  it('refuses wrong methods and arguments on a context made from a ref', () => {
    const jobs = createHubContext({ hub: jobsHub, redis });
    expectTypeOf(jobs.clients.group('job:42').jobUpdated).toEqualTypeOf<Sender>();
    // @ts-expect-error: no such client method (it is a ChatClient method)
    void jobs.clients.group('job:42').ReceiveMessage('a', 'b');
    // @ts-expect-error: progress must be a number
    void jobs.clients.all.jobUpdated({ jobId: '42', progress: '5' });
    // @ts-expect-error: missing argument
    void jobs.clients.user('u1').jobUpdated();
    expectTypeOf(jobs.clients.invoke('c1', 'jobUpdated', { jobId: '1', progress: 1 })).toEqualTypeOf<Promise<void>>();
    // @ts-expect-error: client result of an unknown method (same arguments as the control above)
    void jobs.clients.invoke('c1', 'jobUpdate', { jobId: '1', progress: 1 });
  });

  it('the string form keeps working, and stats() counts sends', () => {
    const made = () => createHubContext<ChatClient>({ hub: 'chat', redis });
    expectTypeOf(made).returns.toEqualTypeOf<HubContext<ChatClient>>();
    expectTypeOf(ctx.stats()).toEqualTypeOf<HubContextStats>();
    expectTypeOf<HubContextStats>().toEqualTypeOf<{ readonly sends: number; readonly noReceivers: number; readonly unheard: number }>();
    // @ts-expect-error: hub must be a string or a HubRef
    void (() => createHubContext({ hub: 42, redis }));
  });
});
