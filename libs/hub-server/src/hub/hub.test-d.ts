import { describe, expectTypeOf, it } from 'vitest';
import type { ClientProxy, HubClients } from './clients.js';
import { defineHub, type HubCallContext, type ServerMethodsOf } from './hub.js';

interface ChatClient {
  ReceiveMessage(user: string, message: string): void;
  Ask(question: string): number;
}

describe('typed client proxies', () => {
  it('accept the client interface methods with their argument types', () => {
    const proxy = {} as ClientProxy<ChatClient>;
    expectTypeOf(proxy.ReceiveMessage).toEqualTypeOf<(user: string, message: string) => Promise<void>>();
    // @ts-expect-error: unknown client method
    void proxy.ReceiveMesage;
    // @ts-expect-error: wrong argument type
    void proxy.ReceiveMessage('a', 42);
    // @ts-expect-error: missing argument
    void proxy.ReceiveMessage('a');
  });

  it('type client results by the method return type', () => {
    const clients = {} as HubClients<ChatClient>;
    expectTypeOf(clients.invoke('id', 'Ask', 'why?')).toEqualTypeOf<Promise<number>>();
    // @ts-expect-error: wrong argument type for a client result
    void clients.invoke('id', 'Ask', 1);
    // @ts-expect-error: unknown method
    void clients.invoke('id', 'Nope');
  });
});

describe('defineHub', () => {
  it('types the context of every method by the client interface', () => {
    const hub = defineHub<ChatClient>()({
      methods: {
        Send(ctx, user: string, message: string) {
          expectTypeOf(ctx).toEqualTypeOf<HubCallContext<ChatClient>>();
          // @ts-expect-error: wrong argument type to a client method
          void ctx.clients.all.ReceiveMessage(user, 1);
          return ctx.clients.group('g').ReceiveMessage(user, message);
        },
        Count: (_ctx, n: number) => n + 1,
      },
    });
    type Server = ServerMethodsOf<typeof hub>;
    expectTypeOf<Server['Count']>().toEqualTypeOf<(n: number) => Promise<number>>();
    expectTypeOf<Server['Send']>().toEqualTypeOf<(user: string, message: string) => Promise<void>>();
  });
});
