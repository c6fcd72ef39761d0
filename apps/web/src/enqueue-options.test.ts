import { describe, expect, it } from 'vitest';
import { readOptions } from './enqueue-options.js';

const none = { delay: '', priority: '', idempotencyKey: '' };

describe('enqueue options', () => {
  it('none set: no options at all (enqueue goes out with two arguments)', () => {
    expect(readOptions(none)).toEqual({ ok: true, options: undefined });
    expect(readOptions({ ...none, delay: '0' })).toEqual({ ok: true, options: undefined });
  });

  it('delay in seconds becomes delayMs; priority; idempotency key as typed', () => {
    expect(readOptions({ delay: '2.5', priority: '3', idempotencyKey: 'order-42' })).toEqual({ ok: true, options: { delayMs: 2500, priority: 3, idempotencyKey: 'order-42' } });
  });

  it('refuses what the hub would, one message per field', () => {
    expect(readOptions({ delay: '-1', priority: '0', idempotencyKey: 'x'.repeat(201) })).toEqual({
      ok: false,
      errors: {
        delay: 'Delay must be a number of seconds from 0 to 2,592,000 (30 days).',
        priority: 'Priority must be a whole number from 1 (highest) to 2,097,152.',
        idempotencyKey: 'Idempotency key must be at most 200 characters; got 201.',
      },
    });
    expect(readOptions({ ...none, delay: '2592001' }).ok).toBe(false);
    expect(readOptions({ ...none, priority: '1.5' }).ok).toBe(false);
    expect(readOptions({ ...none, idempotencyKey: 'a\tb' })).toEqual({ ok: false, errors: { idempotencyKey: 'Idempotency key must be printable characters (no control characters).' } });
  });
});
