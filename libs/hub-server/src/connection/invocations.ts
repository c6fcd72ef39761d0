import { SwitchboardError, type CompletionMessage } from '@switchboard/protocol';
import { ClientResults } from './client-results.js';
import { Semaphore } from './semaphore.js';
import type { UploadStream } from './upload-stream.js';

/**
 * The invocation state of one connection, in one object the connection owns: what the client
 * invoked (running streams, open uploads, the slots plain invocations queue for, how many are in
 * flight) and what the server invoked on the client (client results). The dispatcher reads and
 * changes it; the connection routes StreamItem, Completion and CancelInvocation messages to it and
 * ends it when it closes.
 *
 * Created on a connection's first invocation, and each part on its first use: most connections
 * never stream, upload or wait for a client result, and an idle connection should cost little.
 * For the same reason the connection drops it when its last invocation ends and nothing else is
 * left in it (`idle`): a connection that invoked `JoinGroup` once and then only listens holds no
 * invocation state. Client results keep it (their ids must not start over while a late
 * Completion for an earlier one may still come).
 */
export class Invocations {
  private lazyStreams: Map<string, AbortController> | undefined;
  private lazyUploads: Map<string, UploadStream> | undefined;
  private lazySlots: Semaphore | undefined;
  private lazyResults: ClientResults | undefined;
  /** Invocations received and not finished (waiting for a slot, running, streaming). */
  inFlight = 0;
  /** The invocation limit was logged for this connection (one line each, not one per refusal). */
  warnedLimit = false;

  constructor(private readonly maxParallel: number) {}

  /** Running server-to-client streams, by invocation id. */
  get streams(): Map<string, AbortController> {
    return (this.lazyStreams ??= new Map());
  }

  /** Open client-to-server streams, by stream id. */
  get uploads(): Map<string, UploadStream> {
    return (this.lazyUploads ??= new Map());
  }

  /** Plain invocations take one of these (`maxParallelInvocations`), in arrival order. */
  get slots(): Semaphore {
    return (this.lazySlots ??= new Semaphore(this.maxParallel));
  }

  /** Server-to-client invocations waiting for the client's Completion. */
  get clientResults(): ClientResults {
    return (this.lazyResults ??= new ClientResults());
  }

  /** Nothing in flight, no stream or upload open, no free slot taken, no client result ever started. */
  get idle(): boolean {
    return (
      this.inFlight === 0 &&
      !this.lazyStreams?.size &&
      !this.lazyUploads?.size &&
      this.lazyResults === undefined &&
      (this.lazySlots === undefined || this.lazySlots.isIdle(this.maxParallel))
    );
  }

  /** A StreamItem for an upload (ignored when the stream is unknown or already ended). */
  pushItem(streamId: string, item: unknown): void {
    this.lazyUploads?.get(streamId)?.push(item);
  }

  /** A CancelInvocation: the stream's signal aborts (the dispatcher then completes it). */
  cancel(invocationId: string): void {
    this.lazyStreams?.get(invocationId)?.abort();
  }

  /** A Completion from the client: a client result's answer, or the end of an upload stream. */
  complete(message: CompletionMessage): void {
    if (this.lazyResults?.complete(message)) return;
    const upload = this.lazyUploads?.get(message.invocationId);
    if (upload) {
      this.lazyUploads!.delete(message.invocationId);
      upload.complete(message.error);
    }
  }

  /** The connection closed: streams abort, uploads fail, client results reject with SB_CONNECTION_CLOSED. */
  end(connectionId: string): void {
    if (this.lazyStreams) for (const c of this.lazyStreams.values()) c.abort();
    if (this.lazyUploads) {
      for (const u of this.lazyUploads.values()) u.complete(new SwitchboardError('SB_CONNECTION_CLOSED', 'The connection closed before the upload stream completed.'));
      this.lazyUploads.clear();
    }
    this.lazyResults?.rejectAll(connectionId);
  }
}
