import { createHash } from 'node:crypto';
import type { TaskContext } from '../define-task.js';

/** A deterministic CPU-bound checksum over `items` items. */
export default function transform({ items }: { items: number }, { progress }: TaskContext): string {
  const h = createHash('sha256');
  const step = Math.max(1, Math.floor(items / 100));
  for (let i = 1; i <= items; i++) {
    let x = i;
    for (let j = 0; j < 2000; j++) x = (x * 1103515245 + 12345) % 2147483648;
    h.update(String(x));
    if (i % step === 0) progress((i / items) * 100);
  }
  return h.digest('hex');
}
