/**
 * One transport unit from a connection's queued messages, shared between connections with the
 * same queue.
 *
 * Under load, the connections of one group on a node are written in the same pass with the same
 * messages queued (the same framed buffers, in the same order: the scale-out frames a group
 * message once for all its local members). Joining each queue anew allocated one buffer per
 * connection and pass, tens of megabytes a second at high rates, and that external memory made
 * V8 run major collections every half second or so (5-14 ms pauses, straight into the latency
 * tail). So the last join is kept and reused when the next queue holds the same buffers; the
 * WebSocket transport likewise reuses the last frame it built for the same bytes, so a group's
 * batch costs one join and one frame for all its members on the node.
 *
 * Contract: the returned bytes must not be modified (they may be shared); the cache holds the
 * last queue and its join until the next different one.
 */
let lastQueue: readonly Uint8Array[] | undefined;
let lastJoined: Uint8Array | undefined;

export function joinQueue(queue: readonly Uint8Array[]): Uint8Array {
  if (queue.length === 1) return queue[0]!;
  if (lastQueue && sameBuffers(lastQueue, queue)) return lastJoined!;
  lastJoined = Buffer.concat(queue);
  lastQueue = queue;
  return lastJoined;
}

function sameBuffers(a: readonly Uint8Array[], b: readonly Uint8Array[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
