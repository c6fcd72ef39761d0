import { createHash } from 'node:crypto';
import type { MessagePort } from 'node:worker_threads';
import type { TaskMessage, TaskRequest, TaskTypes } from './types.js';

/**
 * The piscina thread entry. CPU work only; cancellation is piscina's: aborting a running task
 * terminates this thread, which frees it at once even in the middle of a tight loop.
 */
export default function runTask(request: TaskRequest): string {
  try {
    switch (request.kind) {
      case 'hash':
        return hash(request.input, request.port);
      case 'transform':
        return transform(request.input, request.port);
    }
  } finally {
    request.port.close();
  }
}

function progress(port: MessagePort, percent: number): void {
  const message: TaskMessage = { type: 'progress', percent };
  port.postMessage(message);
}

function hash({ seed, rounds }: TaskTypes['hash']['input'], port: MessagePort): string {
  let digest = createHash('sha256').update(seed).digest();
  // Report about every 1%: the parent coalesces to ~10 updates per second anyway.
  const step = Math.max(1, Math.floor(rounds / 100));
  for (let i = 1; i <= rounds; i++) {
    digest = createHash('sha256').update(digest).digest();
    if (i % step === 0) progress(port, (i / rounds) * 100);
  }
  return digest.toString('hex');
}

function transform({ items }: TaskTypes['transform']['input'], port: MessagePort): string {
  const h = createHash('sha256');
  const step = Math.max(1, Math.floor(items / 100));
  for (let i = 1; i <= items; i++) {
    let x = i;
    for (let j = 0; j < 2000; j++) x = (x * 1103515245 + 12345) % 2147483648;
    h.update(String(x));
    if (i % step === 0) progress(port, (i / items) * 100);
  }
  return h.digest('hex');
}
