import type { IncomingMessage } from 'node:http';
import type { HubUser } from '../hub/hub.js';
import type { Logger } from '../telemetry/logger.js';
import { admission, type Endpoint } from './negotiate.js';
import { ConnectionTokenCodec, type TokenClaims } from './token.js';

/** Closed connection ids remembered to refuse token reuse (see `end`). */
const MAX_ENDED_TRACKED = 100_000;

/**
 * The connection-token checks of a hub server (its composition root, server.ts, holds one). A
 * transport request or WebSocket upgrade with a token (`?id=`) must present one that is valid,
 * unexpired and for its endpoint (`open`), for the user the token was issued to, who still has the
 * endpoint's role (`userRefusal`); every refusal is logged here. The gate also remembers the
 * connections that ended on this node until their token would expire (`end`, `hasEnded`): a token
 * is single-use per node, so a leaked token cannot reopen a closed connection (with its id) here.
 */
export class TokenGate {
  private readonly codec: ConnectionTokenCodec;
  /** Ended connection id → its token's expiry. Bounded: under heavy churn the oldest go first. */
  private readonly ended = new Map<string, number>();

  constructor(
    secret: string | Uint8Array,
    private readonly host: { now(): number; readonly logger: Logger },
  ) {
    this.codec = new ConnectionTokenCodec(secret);
  }

  mint(claims: TokenClaims): string {
    return this.codec.mint(claims);
  }

  /** The claims of `token` when it is valid, unexpired and for `path`; otherwise undefined (logged). */
  open(token: string, path: string, req: IncomingMessage): TokenClaims | undefined {
    const claims = this.codec.open(token, this.host.now());
    if (claims && claims.endpoint === path) return claims;
    this.host.logger.warn({ path, remote: req.socket.remoteAddress }, 'refused a transport request with an invalid or expired connection token');
    return undefined;
  }

  /** Why `user` may not use the connection of `claims` (status and text; logged), or undefined. Every request checks it. */
  userRefusal(claims: TokenClaims, user: HubUser | undefined, endpoint: Endpoint, req: IncomingMessage): [number, string] | undefined {
    if ((user?.id ?? null) !== claims.userId) {
      this.host.logger.warn({ path: claims.endpoint, connectionId: claims.connectionId, remote: req.socket.remoteAddress }, 'refused a transport request: the user differs from the one the connection token was issued to');
      // No user at all (an access token that expired): 401 makes the official client get a new token and retry.
      return user ? [403, 'The connection token was issued to another user.'] : [401, 'Unauthorized: this connection needs the access token of the user it was opened for.'];
    }
    return admission(endpoint, user) === 'forbidden' ? [403, 'The user lacks the role this hub requires.'] : undefined;
  }

  /** The connection ended here: its token is refused from now until `tokenExpiresAt` (best effort, memory first). */
  end(connectionId: string, tokenExpiresAt: number): void {
    this.ended.set(connectionId, tokenExpiresAt);
    if (this.ended.size > MAX_ENDED_TRACKED) this.ended.delete(this.ended.keys().next().value!);
  }

  hasEnded(connectionId: string): boolean {
    return this.ended.has(connectionId);
  }

  /** Forgets the ended connections whose token has expired by `now` (the server's heartbeat). */
  prune(now: number): void {
    for (const [id, expiresAt] of this.ended) if (expiresAt <= now) this.ended.delete(id);
  }
}
