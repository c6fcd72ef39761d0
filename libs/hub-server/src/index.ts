export { HubServer, IMPLEMENTED_TRANSPORTS } from './server.js';
export type { HubServerOptions } from './options.js';
export { JwtBearer, bearerToken, admit, type JwtBearerOptions, type AccessRule, type Admission } from './auth.js';
export { CorsPolicy, CORS_ALLOWED_HEADERS, normalizeOrigin, type CorsOptions } from './cors.js';
export { HUB_SERVER_DEFAULTS } from './options.js';
export type { HubServerMetrics, ConnectionStats } from './metrics.js';
export {
  defineHub,
  streamMethod,
  uploadMethod,
  method,
  HubError,
  type ClientMethods,
  type HubUser,
  type HubCallContext,
  type HubDefinition,
  type BackplaneRestored,
  type HubMethod,
  type HubMethodDescriptor,
  type CompiledMethod,
  type MethodOptions,
  type ConnectionRequestInfo,
  type ServerMethodsOf,
} from './hub.js';
export type { HubClients, CallerClients, ClientProxy, GroupManager } from './clients.js';
export { clientProxy, hubClients } from './clients.js';
export { HubEndpoint, hubNameOf, type HubEndpointOptions } from './hub-endpoint.js';
export { hubRef, type HubRef, type HubRefOptions } from './hub-ref.js';
export { OutboundMessage, type ScaleOut, type ScaleOutFactory, type LocalConnection, type RestoredScope } from './scaleout.js';
export { LocalConnectionStore } from './local-connections.js';
export { MemoryScaleOut } from './memory-scaleout.js';
export { ConnectionTokenCodec, type TokenClaims } from './token.js';
export type { RawConnection, RawConnectionHandler } from './raw-endpoint.js';
export type { Transport } from './transport.js';
export { TransportOp, type TransportRouter, type TransportRequestHandler, type ForwardedRequest, type TransportReply } from './transport-routing.js';
export { jsonLogger, silentLogger, type Logger, type LogLevel } from './logger.js';
export { parseUrl as parseRequestUrl } from './http-util.js';
export { invocationErrors, invocationFailure } from './dispatcher.js';
export { CLOSE_ERROR_TEXT } from './connection.js';
export { writeCoalescingIntervalMs } from './write-scheduler.js';
export { BusScaleOut, MemoryBroker, MemoryBus, BackplaneChannels, DEFAULT_CHANNEL_PREFIX, type Bus, type BusScaleOutOptions, type BackplaneMetrics, type SendTarget } from './backplane/index.js';
export type { ClientArgs, ClientResult } from './hub.js';
