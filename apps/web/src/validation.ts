/**
 * The example job set's data (libs/jobs/src/examples/demo-jobs.ts), which this hand-written form
 * enqueues. Written out rather than imported: the dashboard bundle loads no server code.
 */
interface DemoJobData {
  hash: { rounds: number };
  pipeline: { items: number; delayMs?: number; failAtStage?: 'fetch' | 'transform' | 'publish'; failAttempts?: number };
}
type DemoJobName = keyof DemoJobData;

/** The raw text of the enqueue form's fields. */
export interface JobFormValues {
  type: string;
  rounds: string;
  items: string;
  delayMs: string;
  failAtStage: string;
  failAttempts: string;
}

export type JobFormField = Exclude<keyof JobFormValues, 'type'>;

export type JobRequest = { [N in DemoJobName]: { name: N; data: DemoJobData[N] } }[DemoJobName];

export type JobFormResult = { ok: true; request: JobRequest } | { ok: false; errors: Partial<Record<JobFormField | 'type', string>> };

// The same limits as the job schemas in libs/jobs (the hub checks again and its message is shown).
const LIMITS = {
  rounds: { label: 'Rounds', min: 1, max: 50_000_000 },
  items: { label: 'Items', min: 1, max: 1_000_000 },
  delayMs: { label: 'Delay', min: 0, max: 60_000 },
  failAttempts: { label: 'Failing attempts', min: 1, max: 10 },
} as const;
const STAGES = ['fetch', 'transform', 'publish'] as const;

/** A whole number in range, from digits only (spaces around are fine); a message otherwise. */
function wholeNumber(field: keyof typeof LIMITS, text: string): number | string {
  const { label, min, max } = LIMITS[field];
  const t = text.trim();
  const range = `from ${min.toLocaleString('en-US')} to ${max.toLocaleString('en-US')}`;
  if (t === '') return `${label} is required: a whole number ${range}.`;
  if (!/^\d+$/.test(t)) return `${label} must be a whole number ${range} (digits only).`;
  const n = Number(t);
  if (n < min || n > max) return `${label} must be ${range}; got ${n.toLocaleString('en-US')}.`;
  return n;
}

/** Validates the enqueue form: a typed job request, or one message per field that is wrong. */
export function validateJobForm(v: JobFormValues): JobFormResult {
  const errors: Partial<Record<JobFormField | 'type', string>> = {};
  if (v.type === 'hash') {
    const rounds = wholeNumber('rounds', v.rounds);
    if (typeof rounds === 'string') return { ok: false, errors: { rounds } };
    return { ok: true, request: { name: 'hash', data: { rounds } } };
  }
  if (v.type !== 'pipeline') return { ok: false, errors: { type: `Unknown job type '${v.type}'; choose hash or pipeline.` } };

  const data: DemoJobData['pipeline'] = { items: 0 };
  const items = wholeNumber('items', v.items);
  if (typeof items === 'string') errors.items = items;
  else data.items = items;
  if (v.delayMs.trim() !== '') {
    const delay = wholeNumber('delayMs', v.delayMs);
    if (typeof delay === 'string') errors.delayMs = delay;
    else data.delayMs = delay;
  }
  const stage = v.failAtStage;
  if (stage !== '') {
    if ((STAGES as readonly string[]).includes(stage)) data.failAtStage = stage as (typeof STAGES)[number];
    else errors.failAtStage = `Fail at stage must be one of ${STAGES.join(', ')}, or none.`;
  }
  if (v.failAttempts.trim() !== '') {
    if (stage === '') errors.failAttempts = 'Failing attempts needs a stage to fail at; choose one, or leave this empty.';
    else {
      const attempts = wholeNumber('failAttempts', v.failAttempts);
      if (typeof attempts === 'string') errors.failAttempts = attempts;
      else data.failAttempts = attempts;
    }
  }
  if (Object.keys(errors).length > 0) return { ok: false, errors };
  return { ok: true, request: { name: 'pipeline', data } };
}
