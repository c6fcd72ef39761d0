import { SwitchboardError, type CompletionMessage } from '@switchboard/protocol';

interface Pending {
  resolve: (value: unknown) => void;
  reject: (error: Error) => void;
  timer: NodeJS.Timeout;
}

/**
 * Client results of one connection: server-to-client invocations that wait for the client's
 * Completion (`invokeClient`). Ids are `s1`, `s2`, ... so they never collide with the client's
 * own invocation ids. Created on the first one: most connections never wait for a result.
 *
 * Contract: every promise from `start` settles exactly once: with the client's result, with
 * `SB_CLIENT_RESULT_ERROR` (the client's handler failed), `SB_CLIENT_RESULT_TIMEOUT`, or
 * `SB_CONNECTION_CLOSED` (`rejectAll`).
 */
export class ClientResults {
  private readonly pending = new Map<string, Pending>();
  private counter = 0;

  /** Registers a new invocation and returns its id and the promise of its result; `send` writes the Invocation. */
  start(target: string, timeoutMs: number, send: (invocationId: string) => void): Promise<unknown> {
    const invocationId = `s${++this.counter}`;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(invocationId);
        reject(new SwitchboardError('SB_CLIENT_RESULT_TIMEOUT', `The client did not answer '${target}' within ${timeoutMs} ms. Check that it registers a handler with connection.on('${target}', ...) that returns a value.`));
      }, timeoutMs);
      timer.unref();
      this.pending.set(invocationId, { resolve, reject, timer });
      send(invocationId);
    });
  }

  /** Settles the invocation the Completion answers; false when it answers none of ours. */
  complete(message: CompletionMessage): boolean {
    const pending = this.pending.get(message.invocationId);
    if (!pending) return false;
    this.pending.delete(message.invocationId);
    clearTimeout(pending.timer);
    if (message.error !== undefined) pending.reject(new SwitchboardError('SB_CLIENT_RESULT_ERROR', message.error));
    else pending.resolve(message.result);
    return true;
  }

  /** The connection closed: every waiting invocation fails with SB_CONNECTION_CLOSED. */
  rejectAll(connectionId: string): void {
    for (const [id, p] of this.pending) {
      clearTimeout(p.timer);
      p.reject(new SwitchboardError('SB_CONNECTION_CLOSED', `Connection '${connectionId}' disconnected.`));
      this.pending.delete(id);
    }
  }
}
