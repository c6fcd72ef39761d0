import { describe, expect, it } from 'vitest';
import { validateJobForm, type JobFormValues } from './validation.js';

const base: JobFormValues = { type: 'hash', rounds: '', items: '', delayMs: '', failAtStage: '', failAttempts: '' };

describe('enqueue form validation', () => {
  it('hash: rounds is a whole number from 1 to 50,000,000', () => {
    expect(validateJobForm({ ...base, rounds: ' 400000 ' })).toEqual({ ok: true, request: { name: 'hash', data: { rounds: 400000 } } });
    expect(validateJobForm({ ...base, rounds: '50000000' }).ok).toBe(true);
    expect(validateJobForm({ ...base, rounds: '' })).toEqual({ ok: false, errors: { rounds: 'Rounds is required: a whole number from 1 to 50,000,000.' } });
    expect(validateJobForm({ ...base, rounds: '0' })).toEqual({ ok: false, errors: { rounds: 'Rounds must be from 1 to 50,000,000; got 0.' } });
    expect(validateJobForm({ ...base, rounds: '50000001' })).toEqual({ ok: false, errors: { rounds: 'Rounds must be from 1 to 50,000,000; got 50,000,001.' } });
    for (const bad of ['1.5', '-3', '1e6', '12abc', '1,000']) {
      expect(validateJobForm({ ...base, rounds: bad }), bad).toEqual({ ok: false, errors: { rounds: 'Rounds must be a whole number from 1 to 50,000,000 (digits only).' } });
    }
  });

  it('pipeline: items required; delay, stage and failing attempts optional and checked', () => {
    const p = { ...base, type: 'pipeline' };
    expect(validateJobForm({ ...p, items: '2000' })).toEqual({ ok: true, request: { name: 'pipeline', data: { items: 2000 } } });
    expect(validateJobForm({ ...p, items: '5', delayMs: '0', failAtStage: 'transform', failAttempts: '2' })).toEqual({
      ok: true,
      request: { name: 'pipeline', data: { items: 5, delayMs: 0, failAtStage: 'transform', failAttempts: 2 } },
    });
    expect(validateJobForm({ ...p, items: '5', failAtStage: 'publish' })).toEqual({ ok: true, request: { name: 'pipeline', data: { items: 5, failAtStage: 'publish' } } });
  });

  it('pipeline: reports every wrong field at once', () => {
    const r = validateJobForm({ type: 'pipeline', rounds: '', items: '1000001', delayMs: '60001', failAtStage: 'deploy', failAttempts: '0' });
    expect(r).toEqual({
      ok: false,
      errors: {
        items: 'Items must be from 1 to 1,000,000; got 1,000,001.',
        delayMs: 'Delay must be from 0 to 60,000; got 60,001.',
        failAtStage: 'Fail at stage must be one of fetch, transform, publish, or none.',
        failAttempts: 'Failing attempts must be from 1 to 10; got 0.',
      },
    });
  });

  it('pipeline: failing attempts without a stage is refused', () => {
    expect(validateJobForm({ ...base, type: 'pipeline', items: '3', failAttempts: '1' })).toEqual({
      ok: false,
      errors: { failAttempts: 'Failing attempts needs a stage to fail at; choose one, or leave this empty.' },
    });
  });

  it('an unknown job type is refused', () => {
    expect(validateJobForm({ ...base, type: 'rm -rf' })).toEqual({ ok: false, errors: { type: "Unknown job type 'rm -rf'; choose hash or pipeline." } });
  });
});
