import { SwitchboardError, type CompletionMessage } from '@switchboard/protocol';
import { PendingReplies } from '../scaleout/bus/pending-replies.js';

/**
 * Client results of one connection: server-to-client invocations that wait for the client's
 * Completion (`invokeClient`). Ids are `s1`, `s2`, ... so they never collide with the client's
 * own invocation ids. The waiting (ids, timers, settling once) is PendingReplies', as for requests
 * to other nodes.
 *
 * Contract: every promise from `start` settles exactly once: with the client's result, with
 * `SB_CLIENT_RESULT_ERROR` (the client's handler failed), `SB_CLIENT_RESULT_TIMEOUT`, or
 * `SB_CONNECTION_CLOSED` (`rejectAll`).
 */
export class ClientResults {
  private readonly pending = new PendingReplies('s');

  /** Registers a new invocation and returns the promise of its result; `send` writes the Invocation with its id. */
  start(target: string, timeoutMs: number, send: (invocationId: string) => void): Promise<unknown> {
    const { id, result } = this.pending.open(
      timeoutMs,
      () =>
        new SwitchboardError(
          'SB_CLIENT_RESULT_TIMEOUT',
          `The client did not answer '${target}' within ${timeoutMs} ms. Check that it registers a handler with connection.on('${target}', ...) that returns a value.`,
        ),
    );
    try {
      send(id);
    } catch (err) {
      this.pending.drop(id);
      return Promise.reject(err);
    }
    return result;
  }

  /** Settles the invocation the Completion answers; false when it answers none of ours. */
  complete(message: CompletionMessage): boolean {
    if (!this.pending.has(message.invocationId)) return false;
    const error = message.error !== undefined ? new SwitchboardError('SB_CLIENT_RESULT_ERROR', message.error) : undefined;
    this.pending.settle(message.invocationId, message.result, error);
    return true;
  }

  /** The connection closed: every waiting invocation fails with SB_CONNECTION_CLOSED. */
  rejectAll(connectionId: string): void {
    this.pending.rejectAll(new SwitchboardError('SB_CONNECTION_CLOSED', `Connection '${connectionId}' disconnected.`));
  }
}
