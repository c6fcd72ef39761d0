/**
 * The part of an invocation error a person should read. The official client wraps a hub's error
 * as "An unexpected error occurred invoking 'enqueue' on the server. HubException: <message>";
 * this returns "<message>" (Switchboard's messages start with their stable code, e.g.
 * "SB_JOB_INVALID_DATA: ...").
 */
export function hubErrorMessage(err: unknown): string {
  const text = err instanceof Error ? err.message : String(err);
  const m = /HubException: ([\s\S]*)$/.exec(text);
  return (m?.[1] ?? text).trim();
}

/** The stable `SB_*` code at the start of a hub error, if any. */
export function hubErrorCode(err: unknown): string | undefined {
  return /^(SB_[A-Z0-9_]+):/.exec(hubErrorMessage(err))?.[1];
}
