import { DEFAULT_RECONNECT_DELAYS, reconnectDelay, validateOptions, type ClientOptions } from './options.js';

/** What the UI shows; `reconnecting` covers both the official client's reconnect and a persistent restart. */
export type ConnectionState = 'connecting' | 'connected' | 'reconnecting' | 'disconnected';

/** A SignalR transport, as `HttpTransportType` names it. */
export type TransportName = 'WebSockets' | 'ServerSentEvents' | 'LongPolling';

export interface StateChange {
  readonly state: ConnectionState;
  readonly previous: ConnectionState;
  /** Why the connection is not up (set with `reconnecting`, `disconnected`, or `connecting` after a failed try). */
  readonly error?: Error;
  /** The transport in use, once connected. */
  readonly transport?: TransportName;
}

/** What a UI needs to show a connection; every hub connection has it. */
export interface ConnectionStatus {
  readonly state: ConnectionState;
  /** The transport in use while connected. */
  readonly transport: TransportName | undefined;
  /** The last reason the connection was down or failed to start. */
  readonly lastError: Error | undefined;
  onStateChange(handler: (change: StateChange) => void): () => void;
}

/** The part of the official `HubConnection` this package uses; unit tests pass a fake. */
export interface HubConnectionLike {
  readonly connectionId: string | null;
  start(): Promise<void>;
  stop(): Promise<void>;
  invoke<T = unknown>(methodName: string, ...args: unknown[]): Promise<T>;
  on(methodName: string, handler: (...args: any[]) => void): void;
  off(methodName: string, handler: (...args: any[]) => void): void;
  onclose(callback: (error?: Error) => void): void;
  onreconnecting(callback: (error?: Error) => void): void;
  onreconnected(callback: (connectionId?: string) => void): void;
}

/** A connection plus, when known, a way to read which transport it selected last. */
export interface ConnectionParts {
  readonly connection: HubConnectionLike;
  readonly selectedTransport?: () => TransportName | undefined;
}

type AnyFn = (...args: any[]) => any;
type Args<F> = F extends (...args: infer A) => any ? A : never;
type Result<F> = F extends (...args: any[]) => infer R ? Awaited<R> : never;
/** The method names of an interface. */
export type MethodName<T> = { [K in keyof T & string]: T[K] extends AnyFn ? K : never }[keyof T & string];

function asError(err: unknown): Error {
  return err instanceof Error ? err : new Error(String(err));
}

/**
 * One hub connection, typed by the hub's server interface `S` (what the client invokes) and client
 * interface `C` (what the server calls), with a simple state, the transport in use, and a hook that
 * runs whenever the connection is up again after a loss (group membership is per connection, so
 * whatever was joined must be joined again there).
 */
export class HubClient<S, C> implements ConnectionStatus {
  readonly #connection: HubConnectionLike;
  readonly #selectedTransport: () => TransportName | undefined;
  readonly #delays: readonly number[];
  readonly #persistent: boolean;
  readonly #stateHandlers = new Set<(change: StateChange) => void>();
  readonly #reconnectedHandlers = new Set<() => void>();
  #state: ConnectionState = 'disconnected';
  #transport: TransportName | undefined;
  #error: Error | undefined;
  #started: Promise<void> | undefined;
  #stopped = false;
  #everConnected = false;
  #attempt = 0;
  #retryTimer: ReturnType<typeof setTimeout> | undefined;
  #cancelRetry: ((err: Error) => void) | undefined;

  constructor(parts: ConnectionParts, options: ClientOptions = {}) {
    validateOptions(options);
    this.#connection = parts.connection;
    this.#selectedTransport = parts.selectedTransport ?? (() => undefined);
    this.#delays = options.reconnectDelays || DEFAULT_RECONNECT_DELAYS;
    this.#persistent = options.persistent ?? false;
    this.#connection.onreconnecting((error) => {
      this.#transport = undefined;
      if (error) this.#error = error;
      this.#setState('reconnecting', error);
    });
    this.#connection.onreconnected(() => this.#up());
    this.#connection.onclose((error) => this.#closed(error));
  }

  get state(): ConnectionState {
    return this.#state;
  }
  /** The transport in use while connected. */
  get transport(): TransportName | undefined {
    return this.#transport;
  }
  /** The last reason the connection was down or failed to start. */
  get lastError(): Error | undefined {
    return this.#error;
  }
  get connectionId(): string | null {
    return this.#connection.connectionId;
  }

  /**
   * Starts the connection (once; later calls return the same promise). Resolves when it is up.
   * Rejects when the first start fails, unless `persistent`, which keeps trying until `stop()`.
   */
  start(): Promise<void> {
    if (!this.#started) {
      this.#started = this.#firstStart();
      this.#started.catch(() => {}); // the caller may not await it; the state shows the failure
    }
    return this.#started;
  }

  /** Stops for good: no reconnect, no restart. */
  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#retryTimer !== undefined) clearTimeout(this.#retryTimer);
    this.#cancelRetry?.(new Error('stopped before the connection was up'));
    await this.#connection.stop();
    this.#setState('disconnected');
  }

  /** Calls server method `method` and resolves with its result (rejects with the hub's error). */
  invoke<K extends MethodName<S>>(method: K, ...args: Args<S[K]>): Promise<Result<S[K]>> {
    return this.#connection.invoke<Result<S[K]>>(method, ...args);
  }

  /** Handles client method `method`; returns a function that removes the handler. */
  on<K extends MethodName<C>>(method: K, handler: C[K] & AnyFn): () => void {
    // The contracts' client methods return nothing. The official client would send whatever a
    // handler returns (say, an arrow function's `push` count) as a client result, and warn.
    const call = (...args: unknown[]): void => {
      handler(...args);
    };
    this.#connection.on(method, call);
    return () => this.#connection.off(method, call);
  }

  /** Called on every state change; returns a function that removes the handler. */
  onStateChange(handler: (change: StateChange) => void): () => void {
    this.#stateHandlers.add(handler);
    return () => this.#stateHandlers.delete(handler);
  }

  /** Called each time the connection is up again after a loss (not after the first start). */
  onReconnected(handler: () => void): () => void {
    this.#reconnectedHandlers.add(handler);
    return () => this.#reconnectedHandlers.delete(handler);
  }

  async #firstStart(): Promise<void> {
    for (;;) {
      this.#setState(this.#everConnected ? 'reconnecting' : 'connecting', this.#error);
      try {
        await this.#connection.start();
        if (this.#stopped) {
          await this.#connection.stop();
          throw new Error('stopped before the connection was up');
        }
        this.#up();
        return;
      } catch (err) {
        this.#error = asError(err);
        if (this.#stopped || !this.#persistent) {
          this.#setState('disconnected', this.#error);
          throw this.#error;
        }
        await this.#wait(reconnectDelay(this.#delays, this.#attempt++));
      }
    }
  }

  #wait(ms: number): Promise<void> {
    return new Promise((resolve, reject) => {
      this.#cancelRetry = reject;
      this.#retryTimer = setTimeout(() => {
        this.#retryTimer = undefined;
        this.#cancelRetry = undefined;
        resolve();
      }, ms);
    });
  }

  #up(): void {
    const again = this.#everConnected;
    this.#everConnected = true;
    this.#attempt = 0;
    this.#error = undefined;
    this.#transport = this.#selectedTransport();
    this.#setState('connected');
    if (again) this.#emit(this.#reconnectedHandlers, undefined);
  }

  #closed(error: Error | undefined): void {
    this.#transport = undefined;
    if (error) this.#error = error;
    if (this.#stopped || !this.#persistent) {
      this.#setState('disconnected', error);
      return;
    }
    // Closed for good by the official client (reconnect off or refused by the server): start again.
    this.#setState('reconnecting', error);
    this.#started = undefined;
    void this.#wait(reconnectDelay(this.#delays, this.#attempt++)).then(
      () => void this.start(),
      () => {},
    );
  }

  #setState(state: ConnectionState, error?: Error): void {
    const previous = this.#state;
    if (state === previous && state !== 'connecting' && state !== 'reconnecting') return;
    this.#state = state;
    const change: StateChange = { state, previous, ...(error ? { error } : {}), ...(this.#transport ? { transport: this.#transport } : {}) };
    this.#emit(this.#stateHandlers, change);
  }

  #emit<A>(handlers: Set<(arg: A) => void>, arg: A): void {
    for (const h of [...handlers]) {
      try {
        h(arg);
      } catch (err) {
        // One failing handler must not keep the others (or the connection's bookkeeping) from running.
        console.error('@switchboard/client: a handler threw', err);
      }
    }
  }
}
