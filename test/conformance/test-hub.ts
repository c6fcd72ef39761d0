import { defineHub, streamMethod, uploadMethod } from '@switchboard/hub-server';

/** Client methods the official functional tests register. */
export interface TestClient {
  Message(message: string): void;
  CustomObject(obj: unknown): void;
  StreamCanceled(): void;
  Result(): number;
}

/** Errors named like the .NET exception types the official tests' strings contain. */
export class InvalidOperationException extends Error {
  override readonly name = 'InvalidOperationException';
}

function header(value: string | string[] | undefined): string | null {
  if (value === undefined) return null;
  return Array.isArray(value) ? value.join(', ') : value;
}

/** The official client's functional-test hub (TestHub.cs), method for method. */
export const testHub = defineHub<TestClient>()({
  methods: {
    Echo: (_ctx, message: unknown) => message,
    async InvokeWithString(ctx, message: string) {
      await ctx.clients.caller.Message(message);
    },
    async SendCustomObject(ctx, obj: unknown) {
      await ctx.clients.caller.CustomObject(obj);
    },
    Stream: async function* () {
      yield 'a';
      yield 'b';
      yield 'c';
    },
    InfiniteStream: async function* (ctx) {
      await new Promise<void>((resolve) => {
        if (ctx.signal.aborted) resolve();
        else ctx.signal.addEventListener('abort', () => resolve(), { once: true });
      });
      await ctx.clients.caller.StreamCanceled();
    },
    StreamThrowException: streamMethod((_ctx, message: string) => {
      throw new InvalidOperationException(message);
    }),
    EmptyStream: async function* () {},
    ThrowException(_ctx, message: string) {
      throw new InvalidOperationException(message);
    },
    StreamingConcat: uploadMethod(1, async (_ctx, stream: AsyncIterable<string>) => {
      let out = '';
      for await (const item of stream) out += item;
      return out;
    }),
    EchoComplexObject: (_ctx, obj: unknown) => obj,
    SendComplexObject: () => ({
      ByteArray: new Uint8Array([1, 2, 3]),
      DateTime: new Date(Date.UTC(2000, 0, 1)),
      Guid: '00010203-0405-0607-0706-050403020100',
      IntArray: [1, 2, 3],
      String: 'hello world',
    }),
    GetCallerConnectionId: (ctx) => ctx.connectionId,
    GetNumRedirects: (ctx) => Number(ctx.request.query.get('numRedirects') ?? 0),
    GetActiveTransportName: (ctx) => ctx.transport,
    GetHeader: (ctx, name: string) => header(ctx.request.headers[String(name).toLowerCase()]),
    GetCookie: (ctx, name: string) => ctx.request.cookies.get(name) ?? null,
    GetContentTypeHeader: (ctx) => header(ctx.request.headers['content-type']),
  },
});

/** HubWithAuthorization: every connection must carry a valid JWT. */
export const authorizedHub = defineHub<Record<string, never>>()({
  requireUser: true,
  methods: { Echo: (_ctx, message: unknown) => message },
});

/** A hub that cannot be created: connecting fails with an error Close. */
export const uncreatableHub = defineHub<Record<string, never>>()({
  methods: {},
  onConnected() {
    throw new InvalidOperationException('Hub could not be created.');
  },
});
