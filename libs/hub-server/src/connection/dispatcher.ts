import {
  MessageType,
  isSwitchboardError,
  completionWithResult,
  voidCompletion,
  type CompletionMessage,
  type HubMessage,
  type InvocationMessage,
  type StreamInvocationMessage,
  type SwitchboardError,
} from '@switchboard/protocol';
import { admit } from '../hub/access.js';
import type { HubEndpoint } from '../hub/hub-endpoint.js';
import { HubError, type HubCallContext, type HubUser } from '../hub/hub.js';
import type { ResolvedOptions } from '../options.js';
import type { ConnectionContext } from './connection-context.js';
import type { Invocations } from './invocations.js';
import { UploadStream } from './upload-stream.js';

/**
 * What the dispatcher needs of a connection (HubConnection implements it): who calls, the
 * connection's invocation state, and four ways to act on it: write a message, complete an
 * invocation, fail one, pause reading. The dispatcher never sees the connection itself, so the
 * connection can import the dispatcher without an import cycle (ASP.NET's HubConnectionHandler
 * hands messages to DefaultHubDispatcher the same way).
 */
export interface InvocationPort {
  readonly connectionId: string;
  readonly user: HubUser | undefined;
  readonly endpoint: Pick<HubEndpoint, 'name' | 'methods'>;
  readonly options: Pick<ResolvedOptions, 'logger' | 'metrics' | 'detailedErrors' | 'maxParallelInvocations' | 'maxPendingInvocations' | 'streamBufferCapacity'>;
  /** The context hub methods get (per-stream contexts derive from it). */
  readonly context: ConnectionContext;
  /** The connection's invocation state (created on first use). */
  readonly invocations: Invocations;
  readonly isClosed: boolean;
  /** Writes a hub message (a stream item). */
  writeMessage(message: HubMessage): void;
  /** Writes an invocation's Completion (never held back by write coalescing). */
  sendCompletion(message: CompletionMessage): void;
  /** Writes an error Completion when the invocation has an id (a `send()` gets no answer). */
  completeWithError(invocationId: string | undefined, error: string): void;
  /** Pauses (true) or resumes reading; pauses nest (upload stream backpressure). */
  setPaused(paused: boolean): void;
  /** The invocation state is idle (`Invocations.idle`): the connection may let it go. */
  invocationsIdle(): void;
}

/** The standard texts the official client and its tests expect (ASP.NET's ErrorMessageHelper). */
export const invocationErrors = {
  unknownMethod: (target: string) => `Failed to invoke '${target}' due to an error on the server. HubException: Method does not exist.`,
  streamingAsNonStreaming: (target: string) => `The client attempted to invoke the streaming '${target}' method with a non-streaming invocation.`,
  nonStreamingAsStreaming: (target: string) => `The client attempted to invoke the non-streaming '${target}' method with a streaming invocation.`,
  idInUse: (id: string) => `Invocation ID '${id}' is already in use.`,
  badArguments: (target: string, detail: string) => `Failed to invoke '${target}' due to an error on the server. HubException: ${detail}`,
  /**
   * ASP.NET's argument binding failure with its detail (JsonHubProtocol's InvalidDataException).
   * ASP.NET adds the detail only with detailed errors; it is always sent here, because it is
   * about the client's own call (as bad-input Close texts are).
   */
  argumentCount: (target: string, provided: number, expected: number) =>
    `Failed to invoke '${target}' due to an error on the server. InvalidDataException: Invocation provides ${provided} argument(s) but target expects ${expected}.`,
  /** ASP.NET's text for a method whose [Authorize] requirements the user does not meet (the target as the client sent it). */
  unauthorized: (target: string) => `Failed to invoke '${target}' because user is unauthorized`,
  tooManyInvocations: (target: string, limit: number) =>
    `Failed to invoke '${target}' due to an error on the server. HubException: SB_INVOCATION_LIMIT: this connection already has ${limit} invocations in flight (maxParallelInvocations + maxPendingInvocations); wait for results before sending more.`,
};

/** `An unexpected error occurred invoking '<t>' on the server.` plus the detail ASP.NET would add. */
export function invocationFailure(target: string, err: unknown, detailed: boolean): string {
  return withDetail(`An unexpected error occurred invoking '${target}' on the server.`, err, detailed);
}

/**
 * A backplane failure (SB_BACKPLANE_*, e.g. Redis down) tells the caller something it can act on:
 * the message reached this node's clients but not other nodes, or a remote node did not answer.
 * Like a HubError its text goes to the client (`HubException: <code>: <message>`), and it is
 * logged as a warning, not as an error (the backplane logs the outage itself).
 */
function backplaneFailure(err: unknown): SwitchboardError | undefined {
  return isSwitchboardError(err) && err.code.startsWith('SB_BACKPLANE_') ? err : undefined;
}

function logFailure(conn: InvocationPort, target: string, err: unknown, what: string): void {
  if (err instanceof HubError) return;
  const entry = { connectionId: conn.connectionId, target, err };
  if (backplaneFailure(err)) conn.options.logger.warn(entry, what);
  else conn.options.logger.error(entry, what);
}

function withDetail(base: string, err: unknown, detailed: boolean): string {
  const backplane = backplaneFailure(err);
  if (backplane) return `${base} HubException: ${backplane.code}: ${backplane.message}`;
  if (err instanceof HubError || (detailed && err instanceof Error)) return `${base} ${err.name}: ${err.message}`;
  if (detailed && err !== undefined) return `${base} Error: ${String(err)}`;
  return base;
}

function isAsyncIterable(v: unknown): v is AsyncIterable<unknown> {
  return typeof v === 'object' && v !== null && typeof (v as AsyncIterable<unknown>)[Symbol.asyncIterator] === 'function';
}

/**
 * Runs one Invocation or StreamInvocation. Never throws: every failure becomes a Completion error
 * (when the invocation has an id) and a log line. Plain invocations take a slot of the
 * connection's semaphore, so by default they run one at a time in arrival order; streaming and
 * upload methods run beside them (they must keep receiving while they run).
 */
export async function runInvocation(conn: InvocationPort, msg: InvocationMessage | StreamInvocationMessage): Promise<void> {
  // Bounded before anything else: a client that floods invocations gets errors, not unbounded memory.
  const limit = conn.options.maxParallelInvocations + conn.options.maxPendingInvocations;
  const state = conn.invocations;
  if (state.inFlight >= limit) {
    if (!state.warnedLimit) {
      state.warnedLimit = true;
      conn.options.logger.warn({ connectionId: conn.connectionId, code: 'SB_INVOCATION_LIMIT', limit }, 'too many invocations in flight; refusing more from this connection');
    }
    return conn.completeWithError(msg.invocationId, invocationErrors.tooManyInvocations(msg.target, limit));
  }
  state.inFlight++;
  try {
    await dispatchInvocation(conn, msg);
  } finally {
    state.inFlight--;
    if (state.idle) conn.invocationsIdle();
  }
}

async function dispatchInvocation(conn: InvocationPort, msg: InvocationMessage | StreamInvocationMessage): Promise<void> {
  const { target } = msg;
  const id = msg.invocationId;
  const method = conn.endpoint.methods.get(target.toLowerCase());
  const log = conn.options.logger;
  if (!method) {
    log.debug({ connectionId: conn.connectionId, target }, 'unknown hub method');
    return conn.completeWithError(id, invocationErrors.unknownMethod(target));
  }
  // Argument binding comes first, as in ASP.NET (it fails while the protocol parses the message).
  const provided = msg.arguments.length;
  const expected = method.args ?? method.maxArgs;
  if (expected !== undefined && (method.args !== undefined ? provided !== expected : provided > expected)) {
    log.debug({ connectionId: conn.connectionId, target: method.name, provided, expected }, 'refused an invocation: wrong number of arguments');
    return conn.completeWithError(id, invocationErrors.argumentCount(target, provided, expected));
  }
  // Authorization comes before the invocation-mode checks, as in ASP.NET's dispatcher.
  if (admit(method, conn.user) !== 'ok') {
    log.info({ connectionId: conn.connectionId, target: method.name, user: conn.user?.id }, 'refused a hub method: the user lacks the required role (or is anonymous)');
    return conn.completeWithError(id, invocationErrors.unauthorized(target));
  }
  const isStreamCall = msg.type === MessageType.StreamInvocation;
  if (method.kind === 'stream' && !isStreamCall) return conn.completeWithError(id, invocationErrors.streamingAsNonStreaming(method.name));
  if (method.kind !== 'stream' && isStreamCall) return conn.completeWithError(id, invocationErrors.nonStreamingAsStreaming(method.name));
  const streamIds = msg.streamIds ?? [];
  if (streamIds.length !== method.uploads) {
    return conn.completeWithError(
      id,
      invocationFailure(method.name, new HubError(`Client sent ${streamIds.length} stream(s), Hub method expects ${method.uploads}.`), false),
    );
  }
  const state = conn.invocations;
  for (const sid of streamIds) if (state.uploads.has(sid)) return conn.completeWithError(id, invocationErrors.idInUse(sid));
  const uploads = streamIds.map((sid) => {
    const s = new UploadStream(conn.options.streamBufferCapacity, (paused) => conn.setPaused(paused));
    state.uploads.set(sid, s);
    return s;
  });
  const args = [...msg.arguments, ...uploads];
  // Timed for the metrics hook from the moment the handler may run (after its slot) to its end.
  let startedAt: number | undefined;
  let ok = false;
  try {
    if (method.kind === 'stream') {
      startedAt = performance.now();
      ok = await runStream(conn, method.name, method.handler, id!, args);
      return;
    }
    const slot = uploads.length ? undefined : state.slots.acquire();
    const holdsSlot = uploads.length === 0;
    if (slot) await slot;
    try {
      if (conn.isClosed) return;
      startedAt = performance.now();
      const result = await method.handler(conn.context, ...args);
      ok = true;
      if (id) conn.sendCompletion(result === undefined ? voidCompletion(id) : completionWithResult(id, result));
    } finally {
      if (holdsSlot) state.slots.release();
    }
  } catch (err) {
    logFailure(conn, method.name, err, 'hub method threw');
    conn.completeWithError(id, invocationFailure(method.name, err, conn.options.detailedErrors));
  } finally {
    if (startedAt !== undefined) conn.options.metrics?.invocation?.(conn.endpoint.name, method.name, performance.now() - startedAt, ok);
    for (const sid of streamIds) {
      const s = state.uploads.get(sid);
      if (s) {
        state.uploads.delete(sid);
        s.complete();
      }
    }
  }
}

/** Runs a server-to-client stream; resolves true when it completed without an error (or was cancelled). */
async function runStream(
  conn: InvocationPort,
  name: string,
  handler: (ctx: HubCallContext, ...args: unknown[]) => unknown,
  id: string,
  args: unknown[],
): Promise<boolean> {
  const streams = conn.invocations.streams;
  if (streams.has(id)) {
    conn.completeWithError(id, invocationErrors.idInUse(id));
    return false;
  }
  const controller = new AbortController();
  streams.set(id, controller);
  const ctx: HubCallContext = conn.context.withSignal(controller.signal);
  const aborted = new Promise<'aborted'>((resolve) => controller.signal.addEventListener('abort', () => resolve('aborted'), { once: true }));
  try {
    let iterable: unknown;
    try {
      iterable = await handler(ctx, ...args);
      if (!isAsyncIterable(iterable)) throw new TypeError(`The streaming method '${name}' did not return an AsyncIterable.`);
    } catch (err) {
      logFailure(conn, name, err, 'stream method threw');
      conn.completeWithError(id, invocationFailure(name, err, conn.options.detailedErrors));
      return false;
    }
    const iterator = iterable[Symbol.asyncIterator]();
    try {
      for (;;) {
        const next = await Promise.race([iterator.next(), aborted]);
        if (next === 'aborted') {
          // Stop the producer; a generator parked on an await finishes that await first.
          iterator.return?.().catch(() => {});
          break;
        }
        if (next.done) break;
        conn.writeMessage({ type: MessageType.StreamItem, invocationId: id, item: next.value });
      }
      conn.sendCompletion(voidCompletion(id));
      return true;
    } catch (err) {
      logFailure(conn, name, err, 'stream failed while streaming');
      conn.completeWithError(id, withDetail('An error occurred on the server while streaming results.', err, conn.options.detailedErrors));
      return false;
    }
  } finally {
    streams.delete(id);
  }
}
