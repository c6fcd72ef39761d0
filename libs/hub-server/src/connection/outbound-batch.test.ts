import { describe, expect, it } from 'vitest';
import { joinQueue } from './outbound-batch.js';

const bytes = (s: string) => Buffer.from(s);

describe('joinQueue', () => {
  it('returns a single message as it is', () => {
    const one = bytes('a');
    expect(joinQueue([one])).toBe(one);
  });

  it('joins in order, and reuses the join for the next queue holding the same buffers', () => {
    const [a, b, c] = [bytes('a\u001e'), bytes('bb\u001e'), bytes('ccc\u001e')];
    const first = joinQueue([a, b, c]);
    expect(Buffer.from(first).toString()).toBe('a\u001ebb\u001eccc\u001e');
    // Another connection of the same group: a different array with the same buffers.
    expect(joinQueue([a, b, c])).toBe(first);
  });

  it('joins anew when the buffers differ in identity, order or count, even with equal bytes', () => {
    const [a, b] = [bytes('x'), bytes('y')];
    const ab = joinQueue([a, b]);
    const ba = joinQueue([b, a]);
    expect(ba).not.toBe(ab);
    expect(Buffer.from(ba).toString()).toBe('yx');
    const copy = joinQueue([bytes('y'), bytes('x')]);
    expect(copy).not.toBe(ba);
    expect(Buffer.from(copy).toString()).toBe('yx');
    expect(Buffer.from(joinQueue([b, a, a])).toString()).toBe('yxx');
  });
});
