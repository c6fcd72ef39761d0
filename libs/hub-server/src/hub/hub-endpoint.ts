import { SwitchboardError, type TransportName } from '@switchboard/protocol';
import { callerClients, clientProxy, groupManager, hubClients, type CallerClients, type ClientMethods, type GroupManager, type HubClients } from './clients.js';
import { compileMethods, type CompiledMethod, type HubDefinition } from './hub.js';
import type { Logger } from '../telemetry/logger.js';
import type { ScaleOut } from '../scaleout/scaleout.js';

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

/** What `mapHub(path, hub, options)` says about stateful reconnect, validated. */
export interface StatefulReconnectSettings {
  /** Bytes of sent, unacknowledged messages after which further messages wait for an Ack. */
  readonly bufferSize: number;
}

/** Default `statefulReconnectBufferSize`, as ASP.NET's `StatefulReconnectBufferSize` and the client's `bufferSize`. */
export const DEFAULT_STATEFUL_RECONNECT_BUFFER_SIZE = 100_000;

/** Validates the endpoint options; undefined when the endpoint does not allow stateful reconnect. */
export function statefulReconnectSettings(options: { allowStatefulReconnects?: boolean; statefulReconnectBufferSize?: number }): StatefulReconnectSettings | undefined {
  const { allowStatefulReconnects, statefulReconnectBufferSize } = options;
  if (allowStatefulReconnects !== undefined && typeof allowStatefulReconnects !== 'boolean') {
    throw new SwitchboardError('SB_CONFIG_INVALID', `allowStatefulReconnects must be true or false, got ${JSON.stringify(allowStatefulReconnects)}.`);
  }
  const bufferSize = statefulReconnectBufferSize ?? DEFAULT_STATEFUL_RECONNECT_BUFFER_SIZE;
  if (!Number.isInteger(bufferSize) || bufferSize <= 0) {
    throw new SwitchboardError('SB_CONFIG_INVALID', `statefulReconnectBufferSize must be a positive integer (bytes), got ${JSON.stringify(statefulReconnectBufferSize)}.`);
  }
  return allowStatefulReconnects ? { bufferSize } : undefined;
}

/** What a HubEndpoint is made of (`mapHub` builds it). */
export interface HubEndpointInit<C extends ClientMethods> {
  readonly name: string;
  readonly path: string;
  readonly definition: HubDefinition<C>;
  readonly scaleOut: ScaleOut;
  readonly transports: readonly TransportName[];
  readonly clientResultTimeoutMs: number;
  readonly statefulReconnect?: StatefulReconnectSettings | undefined;
}

/** A hub mounted at a path: its compiled methods, its scale-out and its client targets. */
export class HubEndpoint<C extends ClientMethods = ClientMethods> {
  readonly methods: Map<string, CompiledMethod>;
  readonly clients: HubClients<C>;
  readonly groups: GroupManager;

  /** The hub's short name: the last path segment, lower-cased (`chat` for `/hubs/chat`). */
  readonly name: string;
  /** Lower-cased path the hub is mounted at. */
  readonly path: string;
  readonly definition: HubDefinition<C>;
  readonly scaleOut: ScaleOut;
  readonly transports: readonly TransportName[];
  /** Set when the endpoint grants stateful reconnect. */
  readonly statefulReconnect: StatefulReconnectSettings | undefined;

  /** @internal Created by `HubServer.mapHub`. */
  constructor(init: HubEndpointInit<C>) {
    this.name = init.name;
    this.path = init.path;
    this.definition = init.definition;
    this.scaleOut = init.scaleOut;
    this.transports = init.transports;
    this.statefulReconnect = init.statefulReconnect;
    this.methods = compileMethods(init.definition.methods);
    this.clients = hubClients<C>(init.scaleOut, init.clientResultTimeoutMs);
    this.groups = groupManager(init.scaleOut);
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
        ...(scope.route !== undefined ? { route: scope.route } : {}),
        localGroup: (group: string) => clientProxy<C>(async (m) => scope.writeGroupLocal(group, m)),
      };
      logger.info({ hub: this.name, groups: scope.groups.length }, 'backplane restored: the hub resyncs its groups');
      Promise.resolve()
        .then(() => hook.call(this.definition, event))
        .catch((err: unknown) => logger.error({ hub: this.name, err }, 'onBackplaneRestored failed'));
    });
  }
}
