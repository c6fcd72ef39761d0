import type { TransportName } from '@switchboard/protocol';
import { callerClients, clientProxy, groupManager, hubClients, type CallerClients, type GroupManager, type HubClients } from './clients.js';
import { compileMethods, type ClientMethods, type CompiledMethod, type HubDefinition } from './hub.js';
import type { Logger } from './logger.js';
import type { ScaleOut } from './scaleout.js';
import type { StatefulReconnectSettings } from './stateful-reconnect.js';

/** Per-endpoint options given to `mapHub`. */
export interface HubEndpointOptions {
  /** Transports offered on this endpoint, in preference order. @defaultValue all implemented */
  transports?: readonly TransportName[];
  /**
   * Grant stateful reconnect to clients that ask for it (`withStatefulReconnect()`): over
   * WebSockets, a connection whose socket drops survives for `disconnectTimeoutMs` and the client
   * reattaches to it without losing messages (see the package README). @defaultValue false
   */
  allowStatefulReconnects?: boolean;
  /**
   * With stateful reconnect: bytes sent to a client and not yet acknowledged after which further
   * messages wait for its Ack (they are held, up to `maxBufferedBytes`). @defaultValue 100000
   */
  statefulReconnectBufferSize?: number;
}

/** A hub mounted at a path: its compiled methods, its scale-out and its client targets. */
export class HubEndpoint<C extends ClientMethods = ClientMethods> {
  readonly methods: Map<string, CompiledMethod>;
  readonly clients: HubClients<C>;
  readonly groups: GroupManager;

  constructor(
    /** The hub's short name: the last path segment, lower-cased (`chat` for `/hubs/chat`). */
    readonly name: string,
    /** Lower-cased path the hub is mounted at. */
    readonly path: string,
    readonly definition: HubDefinition<C>,
    readonly scaleOut: ScaleOut,
    readonly transports: readonly TransportName[],
    clientResultTimeoutMs: number,
    /** Set when the endpoint grants stateful reconnect. */
    readonly statefulReconnect?: StatefulReconnectSettings,
  ) {
    this.methods = compileMethods(definition.methods);
    this.clients = hubClients<C>(scaleOut, clientResultTimeoutMs);
    this.groups = groupManager(scaleOut);
  }

  callerClients(connectionId: string): CallerClients<C> {
    return callerClients(this.clients, this.scaleOut, connectionId);
  }

  /** Runs the hub's `onBackplaneRestored` each time its scale-out reports a restore (errors logged). */
  watchBackplane(logger: Logger): void {
    const hook = this.definition.onBackplaneRestored;
    if (!hook || !this.scaleOut.onRestored) return;
    this.scaleOut.onRestored((scope) => {
      const event = {
        hub: this.name,
        groups: scope.groups,
        localGroup: (group: string) => clientProxy<C>(async (m) => scope.writeGroupLocal(group, m)),
      };
      logger.info({ hub: this.name, groups: scope.groups.length }, 'backplane restored: the hub resyncs its groups');
      Promise.resolve()
        .then(() => hook.call(this.definition, event))
        .catch((err: unknown) => logger.error({ hub: this.name, err }, 'onBackplaneRestored failed'));
    });
  }
}

// Defined beside hubRef (the backplane entry loads it without this module); re-exported for existing imports.
export { hubNameOf } from './hub-ref.js';
