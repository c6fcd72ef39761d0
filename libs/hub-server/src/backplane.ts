/**
 * The `./backplane` entry: backplane building blocks without the HTTP/WebSocket server, safe to
 * import in workers. It loads only `scaleout/`, `hub/` and `telemetry/` (no `ws`, no connection,
 * no transport): test/repo/import-graph.test.ts checks that.
 */
export type { Bus } from './scaleout/bus/bus.js';
export { BackplaneChannels, DEFAULT_CHANNEL_PREFIX } from './scaleout/bus/channels.js';
/** @internal The envelope codec (hub-context, backplane-redis). */
export { encodeEnvelope, decodeEnvelope, EnvelopeKind, TargetKind, GroupAction, type Envelope } from './scaleout/bus/envelope.js';
export { BusScaleOut } from './scaleout/bus/bus-scaleout.js';
export type { BusScaleOutOptions, BackplaneMetrics, SendTarget } from './scaleout/bus/scaleout-options.js';
export { wallClockMs } from './scaleout/bus/wall-clock.js';
export { MemoryBroker, MemoryBus } from './scaleout/bus/memory-bus.js';
export { OutboundMessage, type ScaleOut, type ScaleOutFactory, type LocalConnection, type RestoredScope } from './scaleout/scaleout.js';
export { hubClients, groupManager, clientProxy, type HubClients, type ClientProxy, type GroupManager, type ClientMethods, type ClientArgs, type ClientResult } from './hub/clients.js';
export { jsonLogger, silentLogger, type Logger } from './telemetry/logger.js';
export { hubRef, hubNameOf, type HubRef, type HubRefOptions } from './hub/hub-ref.js';
