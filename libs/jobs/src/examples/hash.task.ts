import { createHash } from 'node:crypto';
import type { TaskContext } from '../define-task.js';

/** Iterated SHA-256: `rounds` times over the previous digest, starting from sha256(seed); the hex digest. */
export default function hash({ seed, rounds }: { seed: string; rounds: number }, { progress }: TaskContext): string {
  let digest = createHash('sha256').update(seed).digest();
  // Report about every 1%: the job coalesces to ~10 updates per second anyway.
  const step = Math.max(1, Math.floor(rounds / 100));
  for (let i = 1; i <= rounds; i++) {
    digest = createHash('sha256').update(digest).digest();
    if (i % step === 0) progress((i / rounds) * 100);
  }
  return digest.toString('hex');
}
