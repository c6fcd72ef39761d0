import type { IncomingHttpHeaders } from 'node:http';
import type { TransportName } from '@switchboard/protocol';
import type { CallerClients, ClientMethods, ClientProxy, GroupManager } from './clients.js';
import { maxPlainArguments } from './handler-params.js';

/** Who is on the other end, as established by the server's `authenticate` hook. */
export interface HubUser {
  readonly id: string;
  readonly name?: string;
  readonly roles?: readonly string[];
  readonly claims?: Readonly<Record<string, unknown>>;
}

/** The HTTP request that opened the connection (the WebSocket upgrade or first transport request). */
export interface ConnectionRequestInfo {
  readonly path: string;
  readonly headers: IncomingHttpHeaders;
  readonly query: URLSearchParams;
  /** Request cookies by name, parsed once. */
  readonly cookies: ReadonlyMap<string, string>;
  readonly remoteAddress: string | undefined;
}

/** What every hub method and lifecycle hook receives as its first argument. */
export interface HubCallContext<C extends ClientMethods = ClientMethods> {
  /** Public id of this connection (safe to share; never a credential). */
  readonly connectionId: string;
  readonly user: HubUser | undefined;
  readonly request: ConnectionRequestInfo;
  /** Transport in use: `WebSockets`, `ServerSentEvents` or `LongPolling`. */
  readonly transport: TransportName;
  /** Hub protocol in use: `json` or `messagepack`. */
  readonly protocol: string;
  /** Per-connection state that lives as long as the connection. */
  readonly items: Map<string, unknown>;
  /** Aborted when the invocation is cancelled (streams) or the connection closes. */
  readonly signal: AbortSignal;
  readonly clients: CallerClients<C>;
  readonly groups: GroupManager;
  /** Ends this connection (Close without reconnect permission). */
  abort(): void;
}

/** Marker for a hub method's kind; plain functions are classified automatically. */
export type MethodKind = 'invoke' | 'stream';

// biome-ignore lint: handlers take the caller's arguments, whatever their types.
type AnyHandler = (ctx: HubCallContext<any>, ...args: any[]) => unknown;
/** A handler whose context is typed by the hub's client interface. */
export type HubHandler<C extends ClientMethods> = (ctx: HubCallContext<C>, ...args: any[]) => unknown;

/** A hub method with explicit options. */
export interface HubMethodDescriptor<H extends AnyHandler = AnyHandler> {
  readonly kind: MethodKind;
  /** Number of upload streams (client-to-server) the method takes; they follow the plain arguments. */
  readonly uploads: number;
  /**
   * Exact number of plain arguments, when the method wants it enforced. Without it an invocation
   * may carry at most the handler's declared parameters (see `compileMethods`).
   */
  readonly args?: number;
  /** Only authenticated users may call it. */
  readonly requireUser?: boolean;
  /** Only users with at least one of these roles may call it (implies `requireUser`). */
  readonly roles?: readonly string[];
  readonly handler: H;
}

/** Options of `method`, `streamMethod` and `uploadMethod`. */
export interface MethodOptions {
  /** Exact number of plain arguments (fewer or more get ASP.NET's `Invocation provides <n> argument(s) but target expects <args>.`). */
  args?: number;
  /** Only authenticated users may call it; others get `Failed to invoke '<m>' because user is unauthorized`. */
  requireUser?: boolean;
  /** Only users with at least one of these roles may call it (implies `requireUser`). */
  roles?: readonly string[];
}

function descriptorOptions(options: MethodOptions): Pick<HubMethodDescriptor, 'args' | 'requireUser' | 'roles'> {
  // Plain keys (exactOptionalPropertyTypes is off): readers test the values, never the keys.
  return { args: options.args, requireUser: options.requireUser, roles: options.roles && [...options.roles] };
}

export type HubMethod<C extends ClientMethods = any> = HubHandler<C> | HubMethodDescriptor;

// Type-level only (never assigned): see `HubDefinition`'s brand below.
declare const definitionClient: unique symbol;

export interface HubDefinition<C extends ClientMethods = any, M extends Record<string, HubMethod<C>> = Record<string, HubMethod<C>>> {
  readonly methods: M;
  /**
   * Type only, never set: makes a definition invariant in its client interface, so a hub written
   * for one interface cannot be mapped on a `HubRef` of another (method hooks alone are bivariant).
   */
  readonly [definitionClient]?: (client: C) => C;
  onConnected?(ctx: HubCallContext<C>): void | Promise<void>;
  /** `error` is set when the connection ended because of a failure (not a clean close). */
  onDisconnected?(ctx: HubCallContext<C>, error: Error | undefined): void | Promise<void>;
  /**
   * This node's backplane came back after an outage (a Redis blip, a network cut): sends from
   * other processes to its groups were lost here meanwhile, while its clients stayed connected.
   * Re-send what they must not miss (the jobs hub pushes each watched job's snapshot). Errors are
   * logged. Never called on a single node without a backplane.
   */
  onBackplaneRestored?(event: BackplaneRestored<C>): void | Promise<void>;
  /** Only authenticated users may negotiate and connect (401 otherwise). */
  readonly requireUser?: boolean;
  /** Only users with at least one of these roles may negotiate and connect (403 otherwise; implies `requireUser`). */
  readonly requireRoles?: readonly string[];
}

/** What `onBackplaneRestored` gets. */
export interface BackplaneRestored<C extends ClientMethods> {
  /** The hub's short name. */
  readonly hub: string;
  /** The groups with members on this node (those that may have missed sends). */
  readonly groups: readonly string[];
  /**
   * This node's route id (`groups.addRouted`): a routed group's publisher may have lost it with
   * Redis's data (a restart from an older snapshot, a failover): register it again.
   */
  readonly route?: string;
  /** This node's members of `group` only: every node resyncs its own, without going through the backplane. */
  localGroup(group: string): ClientProxy<C>;
}

/**
 * Defines a hub with a typed client interface `C`: `defineHub<ChatClient>()({ methods: {...} })`.
 * The curried form lets TypeScript infer the methods while `C` is given explicitly.
 *
 * The result is `NoInfer`: written inline as an argument (`hubs.mapHub('/x', defineHub<C>()({...}))`)
 * TypeScript would otherwise infer `M` from the parameter's type, whose own client type is not
 * known yet (its constraint, `object`), and type every method's `ctx` by that instead of by `C`.
 */
export function defineHub<C extends ClientMethods>() {
  return <M extends Record<string, HubMethod<C>>>(definition: HubDefinition<C, M>): NoInfer<HubDefinition<C, M>> => definition;
}

/** Marks a method that returns an AsyncIterable (or a promise of one) as a server-to-client stream. */
export function streamMethod<H extends (ctx: HubCallContext<any>, ...args: any[]) => AsyncIterable<unknown> | Promise<AsyncIterable<unknown>>>(
  handler: H,
  options: MethodOptions & { uploads?: number } = {},
): HubMethodDescriptor<H> {
  return { kind: 'stream', uploads: options.uploads ?? 0, handler, ...descriptorOptions(options) };
}

/** Marks a method that takes `uploads` client-to-server streams (as AsyncIterables after its arguments). */
export function uploadMethod<H extends AnyHandler>(uploads: number, handler: H, options: MethodOptions = {}): HubMethodDescriptor<H> {
  return { kind: 'invoke', uploads, handler, ...descriptorOptions(options) };
}

/** A plain method with options: its argument count enforced, or a user or role required. */
export function method<H extends AnyHandler>(handler: H, options: MethodOptions = {}): HubMethodDescriptor<H> {
  return { kind: 'invoke', uploads: 0, handler, ...descriptorOptions(options) };
}

const AsyncGeneratorFunction = Object.getPrototypeOf(async function* () {}).constructor;

/**
 * A method as the dispatcher uses it: its descriptor, its name as declared, and `maxArgs`, the most
 * plain arguments an invocation may carry when `args` is not given (see `compileMethods`).
 */
export type CompiledMethod = HubMethodDescriptor & { readonly name: string; readonly maxArgs?: number };

/**
 * Normalizes a hub's methods into descriptors keyed by lower-cased name (lookup is case-insensitive).
 *
 * Argument counts. `method(fn, { args: n })` (and `args` on the other helpers) wants exactly `n`
 * plain arguments, as ASP.NET wants exactly a method's parameters. Without it, an invocation may
 * carry at most as many plain arguments as the handler declares after its context (defaulted
 * parameters count; upload streams, the last `uploads` parameters, do not): more are refused as
 * ASP.NET refuses them. Fewer are passed on as before (undefined), because TypeScript's optional
 * parameters cannot be told from required ones at run time. A handler with a rest parameter, or
 * whose parameters cannot be read from its source (a bound or native function, one using
 * `arguments`), takes any number (handler-params.ts).
 */
export function compileMethods(methods: Record<string, HubMethod>): Map<string, CompiledMethod> {
  const out = new Map<string, CompiledMethod>();
  for (const [name, m] of Object.entries(methods)) {
    const d: HubMethodDescriptor =
      typeof m === 'function' ? { kind: m instanceof AsyncGeneratorFunction ? 'stream' : 'invoke', uploads: 0, handler: m } : m;
    const key = name.toLowerCase();
    if (out.has(key)) throw new Error(`Hub methods '${out.get(key)!.name}' and '${name}' differ only in case; method names are case-insensitive.`);
    const maxArgs = d.args === undefined ? maxPlainArguments(d.handler, d.uploads) : undefined;
    out.set(key, { ...d, name, maxArgs });
  }
  return out;
}

/**
 * An error whose message is meant for the client: sent as `HubException: <message>` after the
 * standard text even when detailed errors are off (ASP.NET's HubException).
 */
export class HubError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'HubException';
  }
}

/** The server methods of a hub as a client sees them (context dropped, results as promises). */
export type ServerMethodsOf<D> = D extends { readonly methods: infer M }
  ? {
      [K in keyof M]: M[K] extends HubMethodDescriptor<infer H>
        ? H extends (ctx: any, ...args: infer A) => infer R
          ? (...args: A) => R extends AsyncIterable<infer T> ? AsyncIterable<T> : Promise<Awaited<R>>
          : never
        : M[K] extends (ctx: any, ...args: infer A) => infer R
          ? (...args: A) => R extends AsyncIterable<infer T> ? AsyncIterable<T> : Promise<Awaited<R>>
          : never;
    }
  : never;
