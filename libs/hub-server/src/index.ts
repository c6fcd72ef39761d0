// The public API of @switchboard/hub-server (test/repo/public-api.test.ts snapshots these names).
// Names marked `@internal` are exported for the other Switchboard packages (hub-context,
// backplane-redis, jobs, the apps) and the tests, not for users: they may change in any release.

// The server and its options.
export { HubServer } from './server.js';
export { IMPLEMENTED_TRANSPORTS } from './http/negotiate.js';
export { HUB_SERVER_DEFAULTS, type HubServerOptions } from './options.js';
export type { HubServerMetrics, ConnectionStats } from './telemetry/metrics.js';
export { jsonLogger, silentLogger, type Logger, type LogLevel } from './telemetry/logger.js';

// Hubs: definitions, client proxies, endpoints, references, access rules.
export {
  defineHub,
  streamMethod,
  uploadMethod,
  method,
  HubError,
  type HubUser,
  type HubCallContext,
  type HubDefinition,
  type BackplaneRestored,
  type HubMethod,
  type HubMethodDescriptor,
  type MethodOptions,
  type ConnectionRequestInfo,
  type ServerMethodsOf,
} from './hub/hub.js';
/** @internal The compiled form the dispatcher uses. */
export type { CompiledMethod } from './hub/hub.js';
export type { ClientMethods, ClientArgs, ClientResult, HubClients, CallerClients, ClientProxy, GroupManager } from './hub/clients.js';
/** @internal Building blocks of hub contexts (hub-context, jobs). */
export { clientProxy, hubClients } from './hub/clients.js';
export { HubEndpoint, type HubEndpointOptions } from './hub/hub-endpoint.js';
export { hubRef, hubNameOf, type HubRef, type HubRefOptions } from './hub/hub-ref.js';
export { admit, type AccessRule, type Admission } from './hub/access.js';
export type { RawConnection, RawConnectionHandler } from './hub/raw-endpoint.js';

// Authentication and HTTP helpers for host apps.
export { JwtBearer, bearerToken, type JwtBearerOptions } from './http/jwt.js';
export { CorsPolicy, CORS_ALLOWED_HEADERS, normalizeOrigin, type CorsOptions } from './http/cors.js';
export { ConnectionTokenCodec, type TokenClaims } from './http/token.js';
export { parseUrl as parseRequestUrl } from './http/http-util.js';
export { logAcceptErrors, type AcceptErrorLogOptions } from './http/accept-errors.js';

// Scale-out: the seam, the in-memory implementation, the bus implementation (also in ./backplane).
export { OutboundMessage, type ScaleOut, type ScaleOutFactory, type LocalConnection, type RestoredScope } from './scaleout/scaleout.js';
export { LocalConnectionStore } from './scaleout/local-connections.js';
export { MemoryScaleOut } from './scaleout/memory-scaleout.js';
export { TransportOp, type TransportRouter, type TransportRequestHandler, type ForwardedRequest, type TransportReply } from './scaleout/transport-routing.js';
export { BusScaleOut, MemoryBroker, MemoryBus, BackplaneChannels, DEFAULT_CHANNEL_PREFIX, type Bus, type BusScaleOutOptions, type BackplaneMetrics, type SendTarget } from './backplane.js';
export type { Transport } from './connection/transport.js';

/** @internal The texts clients see (tests compare them). */
export { invocationErrors, invocationFailure } from './connection/dispatcher.js';
/** @internal ASP.NET's error Close text (tests compare it). */
export { CLOSE_ERROR_TEXT } from './connection/connection-output.js';
/** @internal The write-coalescing interval now (apps/hub reports it as a metric). */
export { writeCoalescingIntervalMs } from './connection/write-scheduler.js';
