import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { defineHub, HubServer, method, streamMethod, type HubServerOptions, type ScaleOutFactory } from '@switchboard/hub-server';
import { capturingLogger, type CapturingLogger } from '../hub/fixture.js';

export const HUB_SECRET = 'switchboard-auth-test-secret-32b';
export const AUDIENCE = 'switchboard-tests';
export const ISSUER = 'https://idp.test';

export interface AuthClient {
  Message(text: string): void;
}

/** What `Whoami` returns: the connection's user as the hub sees it. */
export interface WhoamiResult {
  id: string | null;
  name: string | null;
  roles: string[];
  transport: string;
}

/** Open to everyone; some methods need a user or a role. */
export const openHub = defineHub<AuthClient>()({
  methods: {
    Whoami: (ctx): WhoamiResult => ({ id: ctx.user?.id ?? null, name: ctx.user?.name ?? null, roles: [...(ctx.user?.roles ?? [])], transport: ctx.transport }),
    Echo: (_ctx, value: unknown) => value,
    UsersOnly: method((ctx) => `hello ${ctx.user!.id}`, { requireUser: true }),
    AdminOnly: method(() => 'admin secret', { roles: ['admin'] }),
    OpsOrAdmin: method(() => 'ops or admin', { roles: ['ops', 'admin'] }),
    AdminCounter: streamMethod(async function* (_ctx, n: number) {
      for (let i = 0; i < n; i++) yield i;
    }, { roles: ['admin'] }),
    async SendToUser(ctx, userId: string, text: string) {
      await ctx.clients.user(userId).Message(text);
    },
    /** Takes `ms` before answering (invocation limits). */
    Sleep: (_ctx, ms: number) => new Promise<number>((resolve) => setTimeout(() => resolve(ms), ms)),
    /** Sends `count` messages of `size` characters to the caller (slow-consumer tests). */
    async Flood(ctx, count: number, size: number) {
      const text = 'x'.repeat(size);
      for (let i = 0; i < count && !ctx.signal.aborted; i++) {
        await ctx.clients.caller.Message(text);
        if (i % 16 === 15) await new Promise((r) => setImmediate(r));
      }
    },
  },
});

/** Only authenticated users may connect. */
export const privateHub = defineHub<AuthClient>()({ requireUser: true, methods: { Whoami: openHub.methods.Whoami } });
/** Only users with the admin role may connect. */
export const adminHub = defineHub<AuthClient>()({ requireRoles: ['admin'], methods: { Whoami: openHub.methods.Whoami } });

export interface AuthNode {
  readonly origin: string;
  readonly server: HubServer;
  readonly http: Server;
  readonly logs: CapturingLogger;
  close(): Promise<void>;
}

/**
 * A HubServer with the built-in JWT validation (HS256 with `jwtSecret`, issuer and audience
 * checked) on 127.0.0.1, port 0: `/hubs/open`, `/hubs/private` (requireUser), `/hubs/admin`
 * (requireRoles admin).
 */
export async function startAuthNode(jwtSecret: string, overrides: Partial<HubServerOptions> = {}, scaleOut?: ScaleOutFactory): Promise<AuthNode> {
  const logs = capturingLogger();
  const server = new HubServer({
    secret: HUB_SECRET,
    logger: logs,
    jwt: { secret: jwtSecret, issuer: ISSUER, audience: AUDIENCE },
    ...(scaleOut ? { scaleOut } : {}),
    ...overrides,
  });
  server.mapHub('/hubs/open', openHub);
  server.mapHub('/hubs/private', privateHub);
  server.mapHub('/hubs/admin', adminHub);
  const http = createServer();
  server.attach(http);
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  const origin = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
  return {
    origin,
    server,
    http,
    logs,
    async close() {
      await server.close();
      http.closeAllConnections();
      await new Promise<void>((resolve) => http.close(() => resolve()));
    },
  };
}

/** The official client's exact text for a negotiate answered with `status` and an empty body. */
export function negotiateRefused(status: 401 | 403): string {
  return `Failed to complete negotiation with the server: Error: ${status === 401 ? 'Unauthorized' : 'Forbidden'}: Status code '${status}'`;
}
