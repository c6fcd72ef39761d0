import { byId } from './dom.js';
import { validateJobForm, type JobFormField, type JobFormValues, type JobRequest } from './validation.js';

const FIELDS: Record<JobFormField, string> = {
  rounds: 'hash-rounds',
  items: 'pipeline-items',
  delayMs: 'pipeline-delay',
  failAtStage: 'pipeline-fail-stage',
  failAttempts: 'pipeline-fail-attempts',
};

/**
 * The enqueue form: shows the fields of the chosen job type, checks them on submit (a message
 * under each wrong field, linked by aria-describedby and aria-invalid, focus on the first), and
 * hands a typed request to `submit`, whose error (for example the hub's own validation) is shown.
 */
export class EnqueueForm {
  readonly #form = byId<HTMLFormElement>('enqueue-form');
  readonly #type = byId<HTMLSelectElement>('job-type');
  readonly #status = byId('enqueue-status');
  readonly #button = byId<HTMLButtonElement>('enqueue-button');

  constructor(private readonly submit: (request: JobRequest) => Promise<string>) {
    this.#type.addEventListener('change', () => this.#showType());
    this.#form.addEventListener('submit', (e) => {
      e.preventDefault();
      void this.#onSubmit();
    });
    this.#showType();
  }

  #value(field: JobFormField): string {
    return byId<HTMLInputElement | HTMLSelectElement>(FIELDS[field]).value;
  }

  #showType(): void {
    for (const fs of this.#form.querySelectorAll<HTMLFieldSetElement>('fieldset[data-job]')) {
      const active = fs.dataset['job'] === this.#type.value;
      fs.hidden = !active;
      fs.disabled = !active;
    }
    this.#clearErrors();
  }

  #clearErrors(): void {
    for (const id of Object.values(FIELDS)) {
      byId(id).removeAttribute('aria-invalid');
      const msg = byId(`${id}-error`);
      msg.hidden = true;
      msg.textContent = '';
    }
  }

  async #onSubmit(): Promise<void> {
    this.#clearErrors();
    const values: JobFormValues = {
      type: this.#type.value,
      rounds: this.#value('rounds'),
      items: this.#value('items'),
      delayMs: this.#value('delayMs'),
      failAtStage: this.#value('failAtStage'),
      failAttempts: this.#value('failAttempts'),
    };
    const result = validateJobForm(values);
    if (!result.ok) {
      let first: HTMLElement | undefined;
      for (const [field, message] of Object.entries(result.errors)) {
        const id = field === 'type' ? 'job-type' : FIELDS[field as JobFormField];
        const input = byId(id);
        input.setAttribute('aria-invalid', 'true');
        const msg = document.getElementById(`${id}-error`);
        if (msg) {
          msg.textContent = message;
          msg.hidden = false;
        }
        first ??= input;
      }
      this.#setStatus('error', 'Please correct the marked field.');
      first?.focus();
      return;
    }
    this.#button.disabled = true;
    this.#setStatus('busy', `Enqueuing ${result.request.name}…`);
    try {
      const jobId = await this.submit(result.request);
      this.#setStatus('ok', `Enqueued ${result.request.name} job ${jobId}.`);
    } catch (err) {
      this.#setStatus('error', `Could not enqueue: ${err instanceof Error ? err.message : String(err)}`);
    } finally {
      this.#button.disabled = false;
    }
  }

  #setStatus(kind: 'ok' | 'error' | 'busy', text: string): void {
    this.#status.dataset['kind'] = kind;
    this.#status.textContent = text;
  }
}
