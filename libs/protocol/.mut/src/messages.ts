/**
 * The SignalR hub message union (HubProtocol.md). Type numbers are the wire values; this is the
 * only place they are declared.
 */
export const MessageType = {
  Invocation: 1,
  StreamItem: 2,
  Completion: 3,
  StreamInvocation: 4,
  CancelInvocation: 5,
  Ping: 6,
  Close: 7,
  Ack: 8,
  Sequence: 9,
} as const;
export type MessageType = (typeof MessageType)[keyof typeof MessageType];

/** Optional string→string map carried by message types 1-5; used for tracing only. */
export type MessageHeaders = Record<string, string>;

export interface InvocationMessage {
  readonly type: typeof MessageType.Invocation;
  /** Absent for fire-and-forget invocations: the receiver must not answer. */
  readonly invocationId?: string;
  readonly target: string;
  readonly arguments: unknown[];
  /** Upload stream ids, one per stream argument removed from `arguments`. */
  readonly streamIds?: string[];
  readonly headers?: MessageHeaders;
}

export interface StreamInvocationMessage {
  readonly type: typeof MessageType.StreamInvocation;
  readonly invocationId: string;
  readonly target: string;
  readonly arguments: unknown[];
  readonly streamIds?: string[];
  readonly headers?: MessageHeaders;
}

export interface StreamItemMessage {
  readonly type: typeof MessageType.StreamItem;
  readonly invocationId: string;
  /** Always written, even when undefined/null: the client kills the connection otherwise. */
  readonly item: unknown;
  readonly headers?: MessageHeaders;
}

/**
 * Completion of an invocation or stream. `error` and `result` are exclusive; `hasResult`
 * distinguishes a void completion (no `result` key) from one whose result is null/undefined.
 */
export interface CompletionMessage {
  readonly type: typeof MessageType.Completion;
  readonly invocationId: string;
  readonly error?: string;
  readonly result?: unknown;
  readonly hasResult?: boolean;
  readonly headers?: MessageHeaders;
}

export interface CancelInvocationMessage {
  readonly type: typeof MessageType.CancelInvocation;
  readonly invocationId: string;
  readonly headers?: MessageHeaders;
}

export interface PingMessage {
  readonly type: typeof MessageType.Ping;
}

export interface CloseMessage {
  readonly type: typeof MessageType.Close;
  readonly error?: string;
  /** Server→client: whether an automatic-reconnect policy may reconnect. */
  readonly allowReconnect?: boolean;
}

export interface AckMessage {
  readonly type: typeof MessageType.Ack;
  readonly sequenceId: number;
}

export interface SequenceMessage {
  readonly type: typeof MessageType.Sequence;
  readonly sequenceId: number;
}

export type HubMessage =
  | InvocationMessage
  | StreamItemMessage
  | CompletionMessage
  | StreamInvocationMessage
  | CancelInvocationMessage
  | PingMessage
  | CloseMessage
  | AckMessage
  | SequenceMessage;

/** Messages counted by stateful reconnect (types 1-5). */
export function isTrackable(message: HubMessage): boolean {
  return message.type <= MessageType.CancelInvocation;
}

export function completionWithResult(invocationId: string, result: unknown): CompletionMessage {
  return { type: MessageType.Completion, invocationId, result, hasResult: true };
}

export function completionWithError(invocationId: string, error: string): CompletionMessage {
  return { type: MessageType.Completion, invocationId, error };
}

export function voidCompletion(invocationId: string): CompletionMessage {
  return { type: MessageType.Completion, invocationId };
}

export const PING: PingMessage = Object.freeze({ type: MessageType.Ping });
