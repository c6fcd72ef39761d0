import type { JobUpdate } from '@switchboard/contracts';
import { el, setAttr, setText } from './dom.js';
import { formatDuration, formatResult, isTerminal, jobDuration, percent, shortId } from './format.js';
import { dueText } from './job-list-model.js';

interface Row {
  readonly li: HTMLLIElement;
  readonly title: HTMLElement;
  readonly state: HTMLElement;
  readonly bar: HTMLElement;
  readonly fill: HTMLElement;
  readonly progress: HTMLElement;
  readonly stage: HTMLElement;
  readonly attempt: HTMLElement;
  readonly duration: HTMLElement;
  readonly due: HTMLElement;
  readonly outcome: HTMLElement;
  readonly cancel: HTMLButtonElement;
  readonly remove: HTMLButtonElement;
  update?: JobUpdate;
}

export interface JobsViewActions {
  cancel(jobId: string): void;
  remove(jobId: string): void;
}

/**
 * The live job list: one card per job with a progress bar (role=progressbar, aria-valuenow),
 * state, stage, attempt, duration, result or error, and cancel / remove buttons. State changes
 * (not progress ticks, which would drown a screen reader) are announced in a polite live region.
 */
export class JobsView {
  readonly #rows = new Map<string, Row>();

  constructor(
    private readonly list: HTMLUListElement,
    private readonly empty: HTMLElement,
    private readonly announcer: HTMLElement,
    private readonly actions: JobsViewActions,
  ) {}

  /** Shows a job before its first update arrives (just enqueued, or remembered from a reload). */
  placeholder(jobId: string, name = 'job'): void {
    if (this.#rows.has(jobId)) return;
    const row = this.#create(jobId, name);
    this.list.prepend(row.li);
    this.#syncEmpty();
  }

  /** Renders an update (already seq-filtered by the client). */
  update(u: JobUpdate): void {
    let row = this.#rows.get(u.jobId);
    if (!row) {
      row = this.#create(u.jobId, u.name);
      this.list.prepend(row.li);
      this.#syncEmpty();
    }
    const before = row.update;
    row.update = u;
    const pct = percent(u.progress);
    setAttr(row.li, 'data-state', u.state);
    setText(row.title.querySelector('.job-name')!, u.name);
    setText(row.state, u.state);
    setAttr(row.state, 'data-state', u.state);
    setAttr(row.bar, 'aria-valuenow', String(pct));
    setAttr(row.bar, 'aria-valuetext', `${pct}%${u.stage ? `, ${u.stage}` : ''}, ${u.state}`);
    setAttr(row.bar, 'aria-label', `Progress of ${u.name} job ${shortId(u.jobId)}`);
    row.fill.style.width = `${pct}%`;
    setText(row.progress, `${pct}%`);
    setText(row.stage, u.stage ?? '–');
    setText(row.attempt, String(u.attempt));
    this.#renderDuration(row, Date.now());
    this.#renderDue(row, Date.now());
    this.#renderOutcome(row, u);
    const ended = isTerminal(u);
    row.cancel.hidden = ended;
    // A retried job (failed, then queued again) can be cancelled again.
    if (ended) row.cancel.disabled = true;
    else if (row.cancel.textContent !== 'Cancelling…') row.cancel.disabled = false;
    row.cancel.setAttribute('aria-label', `Cancel ${u.name} job ${shortId(u.jobId)}`);
    row.remove.setAttribute('aria-label', `Remove ${u.name} job ${shortId(u.jobId)} from the list`);
    if (!before || before.state !== u.state) this.announce(`${u.name} job ${shortId(u.jobId)} ${u.state}${u.state === 'failed' && u.error ? `: ${u.error}` : ''}.`);
  }

  /** Shows a problem with one job (a refused cancel, a failed watch). */
  problem(jobId: string, message: string): void {
    const row = this.#rows.get(jobId);
    if (!row) return;
    row.outcome.hidden = false;
    row.outcome.className = 'job-outcome job-error';
    setText(row.outcome, message);
    if (row.update && !isTerminal(row.update)) {
      row.cancel.disabled = false;
      setText(row.cancel, 'Cancel');
    }
  }

  cancelling(jobId: string): void {
    const row = this.#rows.get(jobId);
    if (!row) return;
    row.cancel.disabled = true;
    setText(row.cancel, 'Cancelling…');
  }

  remove(jobId: string): void {
    const row = this.#rows.get(jobId);
    if (!row) return;
    const focusNext = row.li.contains(document.activeElement);
    const next = row.li.nextElementSibling ?? row.li.previousElementSibling;
    row.li.remove();
    this.#rows.delete(jobId);
    this.#syncEmpty();
    // Keep keyboard users in the list rather than dropping focus to the page.
    if (focusNext) (next?.querySelector<HTMLButtonElement>('button:not([hidden])') ?? document.getElementById('jobs-heading'))?.focus();
  }

  /** Ids of jobs that have ended. */
  finished(): string[] {
    return [...this.#rows].filter(([, r]) => r.update && isTerminal(r.update)).map(([id]) => id);
  }

  /** Updates the running durations (called about once a second). */
  tick(now: number): void {
    for (const row of this.#rows.values()) {
      if (!row.update || isTerminal(row.update)) continue;
      this.#renderDuration(row, now);
      this.#renderDue(row, now);
    }
  }

  announce(text: string): void {
    this.announcer.textContent = text;
  }

  #renderDuration(row: Row, now: number): void {
    const d = row.update ? jobDuration(row.update, now) : undefined;
    setText(row.duration, d === undefined ? '–' : formatDuration(d));
  }

  /** A delayed job's due time ("due 14:03:07 (in 2 s)"); the fact is hidden otherwise. */
  #renderDue(row: Row, now: number): void {
    const u = row.update;
    const show = u?.state === 'delayed' && u.dueAt !== undefined;
    const wrap = row.due.parentElement!;
    if (wrap.hidden === show) wrap.hidden = !show;
    setText(row.due, show ? dueText(u.dueAt!, now) : '');
  }

  #renderOutcome(row: Row, u: JobUpdate): void {
    if (u.state === 'completed' && u.result !== undefined) {
      if (row.outcome.classList.contains('job-result')) return; // already shown (and maybe folded by the user)
      row.outcome.hidden = false;
      row.outcome.className = 'job-outcome job-result';
      const text = formatResult(u.result);
      // Collapsible: a long result would push the other cards away; a short one starts open.
      const short = text.length <= 400 && text.split('\n').length <= 14;
      row.outcome.replaceChildren(el('details', { open: short }, el('summary', {}, 'Result'), el('pre', { class: 'job-result-value' }, text)));
    } else if (u.error) {
      row.outcome.hidden = false;
      row.outcome.className = 'job-outcome job-error';
      setText(row.outcome, `${u.state === 'queued' ? 'Will retry after: ' : 'Error: '}${u.error}`);
    } else {
      row.outcome.hidden = true;
      row.outcome.replaceChildren();
    }
  }

  #create(jobId: string, name: string): Row {
    const headingId = `job-${jobId}-title`;
    const title = el('h3', { class: 'job-title', id: headingId }, el('span', { class: 'job-name' }, name), ' ', el('code', { class: 'job-id', title: jobId }, shortId(jobId)));
    const state = el('span', { class: 'job-state', 'data-state': 'loading' }, 'loading…');
    const fill = el('div', { class: 'progress-fill' });
    const bar = el('div', { class: 'progress', role: 'progressbar', 'aria-valuemin': 0, 'aria-valuemax': 100, 'aria-valuenow': 0, 'aria-label': `Progress of ${name} job ${shortId(jobId)}` }, fill);
    const fact = (label: string, cls: string) => {
      const dd = el('dd', { class: cls }, '–');
      return { wrap: el('div', {}, el('dt', {}, label), dd), dd };
    };
    const progress = fact('Progress', 'job-progress');
    const stage = fact('Stage', 'job-stage');
    const attempt = fact('Attempt', 'job-attempt');
    const duration = fact('Duration', 'job-duration');
    const due = fact('Due', 'job-due');
    due.wrap.hidden = true;
    const outcome = el('div', { class: 'job-outcome', hidden: true });
    const cancel = el('button', { type: 'button', class: 'job-cancel', 'aria-label': `Cancel ${name} job ${shortId(jobId)}` }, 'Cancel');
    const remove = el('button', { type: 'button', class: 'job-remove secondary', 'aria-label': `Remove ${name} job ${shortId(jobId)} from the list` }, 'Remove');
    cancel.addEventListener('click', () => this.actions.cancel(jobId));
    remove.addEventListener('click', () => this.actions.remove(jobId));
    const li = el(
      'li',
      { class: 'job', 'data-job-id': jobId, 'data-state': 'loading', 'aria-labelledby': headingId },
      el('div', { class: 'job-head' }, title, state),
      bar,
      el('dl', { class: 'job-facts' }, progress.wrap, stage.wrap, attempt.wrap, duration.wrap, due.wrap),
      outcome,
      el('div', { class: 'job-actions' }, cancel, remove),
    );
    const row: Row = { li, title, state, bar, fill, progress: progress.dd, stage: stage.dd, attempt: attempt.dd, duration: duration.dd, due: due.dd, outcome, cancel, remove };
    this.#rows.set(jobId, row);
    return row;
  }

  #syncEmpty(): void {
    this.empty.hidden = this.#rows.size > 0;
  }
}
