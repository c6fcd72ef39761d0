import type { CallerClients, ClientMethods, GroupManager } from '../hub/clients.js';
import type { HubEndpoint } from '../hub/hub-endpoint.js';
import type { ConnectionRequestInfo, HubCallContext, HubUser } from '../hub/hub.js';

/** What a context reads of its connection (HubConnection implements it; the context never imports it). */
export interface ContextSource {
  readonly connectionId: string;
  readonly user: HubUser | undefined;
  readonly transport: { readonly name: HubCallContext['transport'] };
  /** Unset until the handshake chose one. */
  readonly protocol: { readonly name: string } | undefined;
  /** Aborted when the connection closes. */
  readonly lifetimeSignal: AbortSignal;
  readonly endpoint: Pick<HubEndpoint, 'callerClients' | 'groups'>;
  /** Ends the connection (a Close without reconnect permission). */
  close(options: object): void;
}

/**
 * The context every hub method and lifecycle hook of one connection receives.
 *
 * A class rather than an object literal, for memory: its accessors live on the prototype (one
 * hidden class shared by every connection; an object literal with a getter gets a hidden class of
 * its own per connection), and what most connections never use is created on first access: the
 * `items` map, the lifetime `signal` and the caller-relative client proxies (`clients`, with its
 * `caller` / `others` proxies and their caches). An idle connection pays for one small object.
 */
export class ConnectionContext implements HubCallContext<ClientMethods> {
  private lazyItems: Map<string, unknown> | undefined;
  private lazyClients: CallerClients<ClientMethods> | undefined;
  /** This context, also for the per-stream contexts derived from it (so lazy state is shared). */
  private readonly base: ConnectionContext;

  constructor(
    private readonly connection: ContextSource,
    readonly request: ConnectionRequestInfo,
  ) {
    this.base = this;
  }

  get connectionId(): string {
    return this.connection.connectionId;
  }

  get user(): HubUser | undefined {
    return this.connection.user;
  }

  get transport(): HubCallContext['transport'] {
    return this.connection.transport.name;
  }

  get protocol(): string {
    return this.connection.protocol?.name ?? '';
  }

  get items(): Map<string, unknown> {
    return (this.base.lazyItems ??= new Map());
  }

  get signal(): AbortSignal {
    return this.connection.lifetimeSignal;
  }

  get clients(): CallerClients<ClientMethods> {
    return (this.base.lazyClients ??= this.connection.endpoint.callerClients(this.connection.connectionId));
  }

  get groups(): GroupManager {
    return this.connection.endpoint.groups;
  }

  /** A function (not a method), so `const { abort } = ctx; abort()` keeps working. */
  get abort(): () => void {
    return () => this.connection.close({});
  }

  /** The context of one streaming invocation: this one, with the invocation's own signal. */
  withSignal(signal: AbortSignal): HubCallContext {
    return Object.create(this, { signal: { value: signal, enumerable: true } }) as HubCallContext;
  }
}
