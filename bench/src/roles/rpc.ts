/**
 * The child side of the benchmark's process protocol (Node IPC): requests `{ id, op, ...args }`
 * are answered `{ re: id, ok, value | error }`; events `{ ev, ... }` go either way unanswered.
 */
export type Request = { id: number; op: string } & Record<string, unknown>;
export type Event = { ev: string } & Record<string, unknown>;

export function serve(handlers: Record<string, (req: Request) => unknown>, onEvent?: (e: Event) => void): void {
  process.on('message', (m: Request | Event) => {
    if ('ev' in m) return onEvent?.(m as Event);
    const req = m as Request;
    const handler = handlers[req.op];
    Promise.resolve()
      .then(() => {
        if (!handler) throw new Error(`unknown op '${req.op}'`);
        return handler(req);
      })
      .then(
        (value) => send({ re: req.id, ok: true, value: value ?? null }),
        (err: unknown) => send({ re: req.id, ok: false, error: err instanceof Error ? (err.stack ?? err.message) : String(err) }),
      );
  });
  // The orchestrator went away (or stopped us): leave at once, nothing to clean up worth waiting for.
  process.on('disconnect', () => process.exit(0));
  // Exit through 'exit' handlers (a CPU profile is written there) rather than die on the signal.
  if (!process.listenerCount('SIGTERM')) process.on('SIGTERM', () => process.exit(0));
}

export function send(message: object): void {
  if (process.connected) process.send!(message);
}
