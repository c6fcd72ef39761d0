/** Backplane building blocks without the HTTP/WebSocket server: safe to import in workers. */
export type { Bus } from './bus.js';
export { BackplaneChannels, DEFAULT_CHANNEL_PREFIX } from './channels.js';
export { encodeEnvelope, decodeEnvelope, EnvelopeKind, TargetKind, GroupAction, type Envelope } from './envelope.js';
export { BusScaleOut } from './bus-scaleout.js';
export type { BusScaleOutOptions, BackplaneMetrics, SendTarget } from './scaleout-options.js';
export { wallClockMs } from './wall-clock.js';
export { MemoryBroker, MemoryBus } from './memory-bus.js';
export { OutboundMessage, type ScaleOut, type ScaleOutFactory, type LocalConnection, type RestoredScope } from '../scaleout.js';
export { hubClients, groupManager, clientProxy, type HubClients, type ClientProxy, type GroupManager } from '../clients.js';
export type { ClientMethods, ClientArgs, ClientResult } from '../hub.js';
export { jsonLogger, silentLogger, type Logger } from '../logger.js';
export { hubRef, hubNameOf, type HubRef, type HubRefOptions } from '../hub-ref.js';
