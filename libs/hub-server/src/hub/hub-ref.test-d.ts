import { describe, expectTypeOf, it } from 'vitest';
import type { HubEndpoint } from './hub-endpoint.js';
import { hubRef, type HubRef } from './hub-ref.js';
import { defineHub, type HubCallContext } from './hub.js';
import type { HubServer } from '../server.js';

interface NotificationsClient {
  notify(text: string, level: 'info' | 'warn'): void;
}
interface ChatClient {
  ReceiveMessage(user: string, message: string): void;
}

// Never called: type tests only compile these expressions.
declare const hubs: HubServer;
const notificationsHub = hubRef<NotificationsClient>('notifications');

const notifications = defineHub<NotificationsClient>()({
  methods: {
    Ping: (ctx, text: string) => ctx.clients.caller.notify(text, 'info'),
  },
});
const chat = defineHub<ChatClient>()({
  methods: {
    Send: (ctx, m: string) => ctx.clients.all.ReceiveMessage('me', m),
  },
});

describe('hubRef', () => {
  it('carries the client interface', () => {
    expectTypeOf(notificationsHub).toEqualTypeOf<HubRef<NotificationsClient>>();
    expectTypeOf(notificationsHub.name).toEqualTypeOf<string>();
    expectTypeOf(notificationsHub.path).toEqualTypeOf<string>();
    // Invariant: a ref of one interface is not a ref of another (nor of a narrower one).
    // @ts-expect-error: a NotificationsClient ref is not a ChatClient ref
    const wrong: HubRef<ChatClient> = notificationsHub;
    // @ts-expect-error: nor a ref of an interface with fewer methods
    const narrower: HubRef<{}> = notificationsHub;
    void [wrong, narrower];
  });
});

describe('mapHub(ref, definition)', () => {
  it('returns an endpoint typed by the ref', () => {
    const endpoint = hubs.mapHub(notificationsHub, notifications);
    expectTypeOf(endpoint).toEqualTypeOf<HubEndpoint<NotificationsClient>>();
    expectTypeOf(endpoint.clients.group('g').notify).toEqualTypeOf<(text: string, level: 'info' | 'warn') => Promise<void>>();
    // @ts-expect-error: level must be 'info' or 'warn'
    void endpoint.clients.all.notify('x', 'loud');
    // @ts-expect-error: no such client method
    void endpoint.clients.all.ReceiveMessage('a', 'b');
    void hubs.mapHub(notificationsHub, notifications, { allowStatefulReconnects: true });
  });

  it('refuses a definition written for another client interface', () => {
    // @ts-expect-error: chat is a HubDefinition<ChatClient>, the ref is for NotificationsClient
    void hubs.mapHub(notificationsHub, chat);
    // @ts-expect-error: an empty hub for another interface is refused too (the brand, not the methods, decides)
    void hubs.mapHub(notificationsHub, defineHub<ChatClient>()({ methods: {} }));
    // @ts-expect-error: nor a narrower interface
    void hubs.mapHub(notificationsHub, defineHub<{}>()({ methods: {} }));
  });

  it('types an inline definition by the ref', () => {
    void hubs.mapHub(notificationsHub, {
      methods: {
        Ping(ctx, text: string) {
          expectTypeOf(ctx).toEqualTypeOf<HubCallContext<NotificationsClient>>();
          // @ts-expect-error: level must be 'info' or 'warn'
          void ctx.clients.all.notify(text, 'loud');
          return ctx.clients.caller.notify(text, 'warn');
        },
      },
    });
    void hubs.mapHub(notificationsHub, defineHub<NotificationsClient>()({ methods: { Ping: (ctx) => ctx.clients.all.notify('hi', 'info') } }));
  });
});

describe("mapHub('/path', defineHub<C>()({...})) written inline", () => {
  it('infers C: the endpoint and every method context are typed', () => {
    const endpoint = hubs.mapHub(
      '/hubs/chat',
      defineHub<ChatClient>()({
        methods: {
          Send(ctx, m: string) {
            expectTypeOf(ctx).toEqualTypeOf<HubCallContext<ChatClient>>();
            // @ts-expect-error: message must be a string
            void ctx.clients.all.ReceiveMessage('me', 1);
            return ctx.clients.all.ReceiveMessage('me', m);
          },
          Count: (_ctx, n: number) => n + 1,
        },
        onConnected(ctx) {
          expectTypeOf(ctx).toEqualTypeOf<HubCallContext<ChatClient>>();
        },
      }),
    );
    expectTypeOf(endpoint).toEqualTypeOf<HubEndpoint<ChatClient>>();
    expectTypeOf(endpoint.clients.all.ReceiveMessage).toEqualTypeOf<(user: string, message: string) => Promise<void>>();
    // @ts-expect-error: message must be a string
    void endpoint.clients.all.ReceiveMessage('a', 1);
    // @ts-expect-error: no such client method
    void endpoint.clients.all.notify('x', 'info');
  });

  it('a definition in a variable infers C as before', () => {
    expectTypeOf(hubs.mapHub('/hubs/chat', chat)).toEqualTypeOf<HubEndpoint<ChatClient>>();
  });
});
