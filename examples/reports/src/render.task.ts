import { createHash } from 'node:crypto';
import type { TaskContext } from '@switchboard/jobs';

export interface RenderInput {
  month: string;
  pages: number;
  /** CPU time per page, ms (a real renderer lays out and rasterises; this one hashes). */
  msPerPage: number;
}

/** The CPU-heavy step, run in a worker thread: renders every page and reports progress after each. */
export default function render(input: RenderInput, { progress }: TaskContext): { pages: number; bytes: number; digest: string } {
  const pdf = createHash('sha256').update(input.month);
  let bytes = 0;
  for (let page = 1; page <= input.pages; page++) {
    const until = performance.now() + input.msPerPage;
    while (performance.now() < until) pdf.update(`page ${page}`);
    bytes += 2048;
    progress((page / input.pages) * 100);
  }
  return { pages: input.pages, bytes, digest: pdf.digest('hex') };
}
