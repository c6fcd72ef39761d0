import type { EnqueueOptions, EnqueueResult, JobTypeInfo } from '@switchboard/contracts';
import { byId, el, setText } from './dom.js';
import { readOptions, type OptionField } from './enqueue-options.js';
import { fieldsNamed, readForm, type RawValue } from './field-values.js';
import { describeSchema, fieldHint, type FieldSpec, type FormSpec } from './schema-fields.js';

type Control = HTMLInputElement | HTMLSelectElement | HTMLTextAreaElement;

interface Rendered {
  readonly spec: FieldSpec;
  readonly control: Control;
  readonly error: HTMLElement;
  readonly wrap: HTMLElement;
}

const OPTION_IDS: Record<OptionField, string> = { delay: 'opt-delay', priority: 'opt-priority', idempotencyKey: 'opt-key' };

/** An element id for a field: readable when the key allows (`field-rounds`), by position otherwise. */
function fieldId(key: string, index: number): string {
  return /^[A-Za-z][\w-]{0,60}$/.test(key) ? `field-${key}` : `field-${index}`;
}

/** The text a select option shows for a choice value. */
const choiceText = (v: unknown) => (typeof v === 'string' ? v : JSON.stringify(v));

/**
 * The enqueue form, generated from the hub's job types (`jobTypes()`): a job-type select with the
 * type's description, one control per property of its data schema (see schema-fields.ts), and the
 * enqueue options (delay, priority, idempotency key) folded under "Options". On submit every field
 * is checked in the page (a message under each wrong one, aria-invalid, focus on the first); a hub
 * refusal is shown verbatim, and the fields it names are marked too.
 */
export class SchemaForm {
  readonly #form = byId<HTMLFormElement>('enqueue-form');
  readonly #type = byId<HTMLSelectElement>('job-type');
  readonly #typeHint = byId('job-type-description');
  readonly #fieldset = byId<HTMLFieldSetElement>('job-fields');
  readonly #fields = byId('job-fields-body');
  readonly #legend = byId('job-fields-legend');
  readonly #options = byId<HTMLDetailsElement>('enqueue-options');
  readonly #status = byId('enqueue-status');
  readonly #button = byId<HTMLButtonElement>('enqueue-button');
  #types: readonly JobTypeInfo[] = [];
  #typesJson = '';
  #spec: FormSpec = { fields: [], whole: false };
  #rendered: Rendered[] = [];

  constructor(private readonly submit: (name: string, data: unknown, options: EnqueueOptions | undefined) => Promise<EnqueueResult>) {
    this.#type.addEventListener('change', () => this.#showType());
    this.#form.addEventListener('submit', (e) => {
      e.preventDefault();
      void this.#onSubmit();
    });
    this.unavailable('Loading job types…');
  }

  /** The job types as last loaded. */
  get types(): readonly JobTypeInfo[] {
    return this.#types;
  }

  /** Shows the hub's job types; re-renders only when they changed (a reconnect keeps what was typed). */
  setTypes(types: readonly JobTypeInfo[]): void {
    const json = JSON.stringify(types);
    if (json === this.#typesJson) return;
    this.#typesJson = json;
    this.#types = types;
    const previous = this.#type.value;
    this.#type.replaceChildren(...types.map((t) => el('option', { value: t.name }, t.title && t.title !== t.name ? `${t.title} (${t.name})` : t.name)));
    if (types.some((t) => t.name === previous)) this.#type.value = previous;
    this.#type.disabled = types.length === 0;
    this.#button.disabled = types.length === 0;
    this.#showType();
    if (!types.length) this.#setStatus('error', 'This hub has no job types.');
    else if (this.#status.dataset['kind'] === 'busy' || this.#status.dataset['kind'] === 'error') this.#setStatus('', '');
  }

  /** The job types could not be loaded: say why, and offer nothing to send. */
  unavailable(reason: string): void {
    if (this.#types.length) return; // keep a form that was loaded before; the hub checks on submit
    this.#type.disabled = true;
    this.#button.disabled = true;
    setText(this.#typeHint, '');
    this.#fieldset.hidden = true;
    this.#setStatus(reason.endsWith('…') ? 'busy' : 'error', reason);
  }

  #showType(): void {
    const info = this.#types.find((t) => t.name === this.#type.value);
    this.#fieldset.hidden = !info;
    if (!info) {
      this.#rendered = [];
      this.#fields.replaceChildren();
      return;
    }
    const facts = [`Stages: ${info.stages.length ? info.stages.join(', ') : '–'}`, `${info.attempts} attempt${info.attempts === 1 ? '' : 's'}`].join('; ');
    setText(this.#typeHint, `${info.description ? `${info.description} ` : ''}${facts}.`);
    setText(this.#legend, `${info.name} data`);
    this.#spec = describeSchema(info.schema);
    this.#rendered = this.#spec.fields.map((f, i) => this.#renderField(f, i));
    this.#fields.replaceChildren(...this.#rendered.map((r) => r.wrap));
    if (!this.#rendered.length) this.#fields.append(el('p', { class: 'hint' }, 'This job takes no data.'));
    if (this.#status.dataset['kind'] === 'error') this.#setStatus('', '');
  }

  #renderField(f: FieldSpec, index: number): Rendered {
    const id = fieldId(f.key, index);
    const hintText = fieldHint(f);
    const described = [f.description ? `${id}-description` : '', `${id}-hint`, `${id}-error`].filter(Boolean).join(' ');
    const common = { id, name: f.key || 'data', 'data-key': f.key, 'aria-describedby': described, 'aria-required': f.required ? 'true' : undefined };
    let control: Control;
    switch (f.kind) {
      case 'integer':
      case 'number': {
        const step = f.kind === 'integer' ? (f.multipleOf && Number.isInteger(f.multipleOf) ? f.multipleOf : 1) : (f.multipleOf ?? 'any');
        control = el('input', {
          ...common,
          type: 'number',
          inputmode: f.kind === 'integer' ? 'numeric' : 'decimal',
          autocomplete: 'off',
          step,
          min: f.minimum ?? f.exclusiveMinimum,
          max: f.maximum ?? f.exclusiveMaximum,
          placeholder: f.hasDefault ? String(f.default) : undefined,
        });
        break;
      }
      case 'string':
        control = el('input', { ...common, type: 'text', autocomplete: 'off', spellcheck: 'false', placeholder: f.hasDefault ? String(f.default) : undefined });
        break;
      case 'choice': {
        const choices = f.choices ?? [];
        const empty = !f.required && !f.hasDefault ? [el('option', { value: '' }, 'none')] : f.required && !f.hasDefault ? [el('option', { value: '' }, 'choose…')] : [];
        control = el('select', common, ...empty, ...choices.map((c, i) => el('option', { value: String(i) }, choiceText(c))));
        const d = f.hasDefault ? choices.findIndex((c) => c === f.default) : -1;
        control.value = d >= 0 ? String(d) : '';
        break;
      }
      case 'boolean': {
        const box = el('input', { ...common, type: 'checkbox' });
        box.checked = f.default === true;
        control = box;
        break;
      }
      case 'json': {
        const area = el('textarea', { ...common, rows: 4, spellcheck: 'false', autocomplete: 'off', class: 'json', placeholder: f.example });
        if (f.hasDefault) area.value = JSON.stringify(f.default, null, 2);
        control = area;
        break;
      }
    }
    const label = el('label', { for: id }, f.label);
    const error = el('p', { class: 'field-error', id: `${id}-error`, hidden: true });
    const parts: Node[] = [];
    if (f.description) parts.push(el('p', { class: 'hint description', id: `${id}-description` }, f.description));
    // The property name as the hub's messages name it (SB_JOB_INVALID_DATA: "<key>: …").
    parts.push(el('p', { class: 'hint', id: `${id}-hint` }, el('code', {}, f.key || 'data'), hintText ? `: ${hintText}` : ''));
    const wrap =
      f.kind === 'boolean'
        ? el('div', { class: 'field check', 'data-kind': f.kind }, el('div', { class: 'check-row' }, control, label), ...parts, error)
        : el('div', { class: 'field', 'data-kind': f.kind }, label, control, ...parts, error);
    return { spec: f, control, error, wrap };
  }

  #raw(r: Rendered): RawValue {
    const c = r.control;
    if (c instanceof HTMLInputElement && c.type === 'checkbox') return { checked: c.checked };
    if (c instanceof HTMLInputElement && c.type === 'number') return { text: c.value, badInput: c.validity.badInput };
    return { text: c.value };
  }

  #clearErrors(): void {
    for (const r of this.#rendered) this.#markError(r.control, r.error, undefined);
    for (const id of Object.values(OPTION_IDS)) this.#markError(byId(id), byId(`${id}-error`), undefined);
  }

  #markError(control: HTMLElement, error: HTMLElement, message: string | undefined): void {
    if (message) control.setAttribute('aria-invalid', 'true');
    else control.removeAttribute('aria-invalid');
    error.hidden = !message;
    setText(error, message ?? '');
  }

  async #onSubmit(): Promise<void> {
    const info = this.#types.find((t) => t.name === this.#type.value);
    if (!info) return;
    this.#clearErrors();
    const byKey = new Map(this.#rendered.map((r) => [r.spec.key, r]));
    const data = readForm(this.#spec, (key) => this.#raw(byKey.get(key)!));
    const opts = readOptions({ delay: byId<HTMLInputElement>(OPTION_IDS.delay).value, priority: byId<HTMLInputElement>(OPTION_IDS.priority).value, idempotencyKey: byId<HTMLInputElement>(OPTION_IDS.idempotencyKey).value });
    const invalid: HTMLElement[] = [];
    if (!data.ok) {
      for (const [key, message] of Object.entries(data.errors)) {
        const r = byKey.get(key)!;
        this.#markError(r.control, r.error, message);
        invalid.push(r.control);
      }
    }
    if (!opts.ok) {
      this.#options.open = true; // a message inside a closed <details> would be invisible
      for (const [field, message] of Object.entries(opts.errors)) {
        const id = OPTION_IDS[field as OptionField];
        this.#markError(byId(id), byId(`${id}-error`), message);
        invalid.push(byId(id));
      }
    }
    if (!data.ok || !opts.ok) {
      this.#setStatus('error', invalid.length > 1 ? `Please correct the ${invalid.length} marked fields.` : 'Please correct the marked field.');
      invalid[0]?.focus();
      return;
    }
    this.#button.disabled = true;
    this.#setStatus('busy', `Enqueuing ${info.name}…`);
    try {
      const { jobId, duplicate } = await this.submit(info.name, data.data, opts.options);
      this.#setStatus('ok', duplicate ? `Not enqueued again: the idempotency key matches ${info.name} job ${jobId}, enqueued earlier.` : `Enqueued ${info.name} job ${jobId}.`);
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      this.#setStatus('error', `Could not enqueue: ${message}`);
      // Mark the fields the hub names, with its own words for each.
      for (const [key, issue] of Object.entries(fieldsNamed(message, [...byKey.keys()]))) {
        const r = byKey.get(key)!;
        this.#markError(r.control, r.error, `The hub refused it: ${issue}`);
      }
    } finally {
      this.#button.disabled = false;
    }
  }

  #setStatus(kind: 'ok' | 'error' | 'busy' | '', text: string): void {
    if (kind) this.#status.dataset['kind'] = kind;
    else delete this.#status.dataset['kind'];
    setText(this.#status, text);
  }
}
