import type { HubConnectionLike } from './hub-client.js';

type Handler = (...args: any[]) => void;

/**
 * An in-memory stand-in for the official HubConnection: the test plays the server (`server`
 * answers invocations, `push` calls client methods) and the network (`drop`, `restore`, `close`).
 */
export class FakeConnection implements HubConnectionLike {
  connectionId: string | null = null;
  /** Every invocation, in order: [method, ...args]. */
  readonly calls: unknown[][] = [];
  /** Outcomes of the next `start()` calls; an empty queue means success. */
  readonly startOutcomes: (Error | 'ok')[] = [];
  startCount = 0;
  up = false;
  server: (method: string, args: unknown[]) => unknown = () => undefined;
  readonly #handlers = new Map<string, Set<Handler>>();
  readonly #close: ((e?: Error) => void)[] = [];
  readonly #reconnecting: ((e?: Error) => void)[] = [];
  readonly #reconnected: ((id?: string) => void)[] = [];

  async start(): Promise<void> {
    this.startCount++;
    const outcome = this.startOutcomes.shift() ?? 'ok';
    if (outcome instanceof Error) throw outcome;
    this.up = true;
    this.connectionId = `c${this.startCount}`;
  }
  async stop(): Promise<void> {
    const wasUp = this.up;
    this.up = false;
    if (wasUp) for (const cb of this.#close) cb();
  }
  async invoke<T>(method: string, ...args: unknown[]): Promise<T> {
    if (!this.up) throw new Error("Cannot send data if the connection is not in the 'Connected' State.");
    this.calls.push([method, ...args]);
    return (await this.server(method, args)) as T;
  }
  on(method: string, handler: Handler): void {
    const set = this.#handlers.get(method.toLowerCase()) ?? new Set();
    set.add(handler);
    this.#handlers.set(method.toLowerCase(), set);
  }
  off(method: string, handler: Handler): void {
    this.#handlers.get(method.toLowerCase())?.delete(handler);
  }
  onclose(cb: (e?: Error) => void): void {
    this.#close.push(cb);
  }
  onreconnecting(cb: (e?: Error) => void): void {
    this.#reconnecting.push(cb);
  }
  onreconnected(cb: (id?: string) => void): void {
    this.#reconnected.push(cb);
  }

  /** The server calls a client method. */
  push(method: string, ...args: unknown[]): void {
    for (const h of this.#handlers.get(method.toLowerCase()) ?? []) h(...args);
  }
  /** Calls the handlers of a client method and returns what each returned. */
  handlerResults(method: string, ...args: unknown[]): unknown[] {
    return [...(this.#handlers.get(method.toLowerCase()) ?? [])].map((h) => h(...args));
  }
  /** The transport is lost; the official client starts reconnecting. */
  drop(error = new Error('WebSocket closed with status code: 1006')): void {
    this.up = false;
    for (const cb of this.#reconnecting) cb(error);
  }
  /** The official client's reconnect succeeded (a new connection, so no groups). */
  restore(): void {
    this.up = true;
    this.connectionId = `r${++this.startCount}`;
    for (const cb of this.#reconnected) cb(this.connectionId);
  }
  /** Closed for good by the official client (reconnect off, gave up, or refused by the server). */
  close(error?: Error): void {
    this.up = false;
    for (const cb of this.#close) cb(error);
  }
  callsOf(method: string): unknown[][] {
    return this.calls.filter((c) => c[0] === method);
  }
}

/** Resolves after pending promise callbacks (and timers of 0 ms) have run. */
export function settle(ms = 0): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
