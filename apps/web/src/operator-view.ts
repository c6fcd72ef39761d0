import { hubErrorMessage } from '@switchboard/client';
import type { JobListChange, JobListPage, JobListQuery, JobSnapshot, JobTypeInfo, ListedJobState } from '@switchboard/contracts';
import { Coalescer } from './coalesce.js';
import { byId, el, setAttr, setText } from './dom.js';
import { percent, shortId } from './format.js';
import { Pager, STATE_TABS, dueText, formatWhen, rowActions, stateLabel, tabCount, type RowAction, type StateFilter } from './job-list-model.js';

/** The jobs hub calls the operator's view makes (JobsConnection has them). */
export interface OperatorApi {
  list(query: JobListQuery): Promise<JobListPage>;
  retry(jobId: string): Promise<{ jobId: string }>;
  cancel(jobId: string): Promise<boolean>;
  remove(jobId: string): Promise<boolean>;
}

const PAGE_SIZE = 20;
/** At most 10 re-reads (and so renders) per second, however many jobs change. */
const MIN_REFRESH_MS = 100;

interface Row {
  readonly tr: HTMLTableRowElement;
  readonly name: HTMLElement;
  readonly state: HTMLElement;
  readonly due: HTMLElement;
  readonly error: HTMLElement;
  readonly stage: HTMLElement;
  readonly progress: HTMLElement;
  readonly attempt: HTMLElement;
  readonly owner: HTMLElement;
  readonly created: HTMLElement;
  readonly updated: HTMLElement;
  readonly actions: HTMLElement;
  job: JobSnapshot;
  /** The actions its buttons were made for ("retry,remove"), so they are rebuilt only when that changes. */
  actionKey: string;
}

const ACTION_TEXT: Record<RowAction, string> = { retry: 'Retry', cancel: 'Cancel', remove: 'Remove' };

/**
 * The operator's view of the queue: every job the user may see (all of them for admins), by state
 * with live counts, filtered by job name, newest first, paged by cursor, with Retry / Cancel /
 * Remove. Pushed, not polled: `jobListChanged` asks for a re-read of the page shown, and the
 * re-reads go through a Coalescer, so the table renders at most 10 times a second whatever the
 * job rate. Rows are kept by job id and updated in place, so focus on a button survives renders.
 */
export class OperatorView {
  readonly #panel = byId('operator');
  readonly #tabs = byId('ops-states');
  readonly #name = byId<HTMLSelectElement>('ops-name');
  readonly #status = byId('ops-status');
  readonly #caption = byId('ops-caption');
  readonly #table = byId<HTMLTableElement>('ops-table');
  readonly #body = byId<HTMLTableElement>('ops-table').tBodies[0]!;
  readonly #empty = byId('ops-empty');
  readonly #newer = byId<HTMLButtonElement>('ops-newer');
  readonly #older = byId<HTMLButtonElement>('ops-older');
  readonly #tabButtons = new Map<StateFilter, HTMLButtonElement>();
  readonly #rows = new Map<string, Row>();
  readonly #busy = new Set<string>();
  readonly #pager = new Pager();
  readonly #refresh = new Coalescer(() => this.#load(), MIN_REFRESH_MS);
  #filter: StateFilter = 'all';
  #nextCursor: string | undefined;
  #pushed: JobListChange['counts'] | undefined;
  #attempts = new Map<string, number>();
  #renders = 0;

  constructor(private readonly api: OperatorApi) {
    for (const tab of STATE_TABS) {
      const button = el('button', { type: 'button', class: 'tab secondary', 'data-state': tab, 'aria-pressed': tab === this.#filter ? 'true' : 'false' }, stateLabel(tab), ' ', el('span', { class: 'count' }, '–'));
      button.addEventListener('click', () => this.#setFilter(tab));
      this.#tabButtons.set(tab, button);
      this.#tabs.append(button);
    }
    this.#name.addEventListener('change', () => {
      this.#pager.reset();
      this.refresh();
    });
    this.#newer.addEventListener('click', () => {
      this.#pager.newer();
      this.refresh();
    });
    this.#older.addEventListener('click', () => {
      if (this.#nextCursor === undefined) return;
      this.#pager.older(this.#nextCursor);
      this.refresh();
    });
  }

  /** How many times the table has rendered (the e2e tests measure the rate through data-renders). */
  get renders(): number {
    return this.#renders;
  }

  /** The job types for the name filter (and "attempt n of m"). */
  setTypes(types: readonly JobTypeInfo[]): void {
    this.#attempts = new Map(types.map((t) => [t.name, t.attempts]));
    const current = this.#name.value;
    this.#name.replaceChildren(el('option', { value: '' }, 'All job types'), ...types.map((t) => el('option', { value: t.name }, t.title && t.title !== t.name ? `${t.title} (${t.name})` : t.name)));
    this.#name.value = types.some((t) => t.name === current) ? current : '';
  }

  /** A `jobListChanged` push (or the counts `watchList` answered): re-read the page shown, coalesced. */
  changed(change: JobListChange): void {
    this.#pushed = change.counts;
    this.refresh();
  }

  /** Re-reads the page shown (coalesced with any other asks). */
  refresh(): void {
    this.#refresh.request();
  }

  /** The list cannot be read (no connection, or a hub without `list`): say so, keep the last rows. */
  unavailable(reason: string): void {
    this.#show('error', `Job list unavailable: ${reason}`);
  }

  /** Advances the "due in …" of delayed jobs (called about once a second). */
  tick(now: number): void {
    for (const row of this.#rows.values()) if (row.job.state === 'delayed' && row.job.dueAt !== undefined) setText(row.due, dueText(row.job.dueAt, now));
  }

  #setFilter(tab: StateFilter): void {
    this.#filter = tab;
    for (const [t, b] of this.#tabButtons) setAttr(b, 'aria-pressed', t === tab ? 'true' : 'false');
    this.#pager.reset();
    this.refresh();
  }

  #query(): JobListQuery {
    const name = this.#name.value;
    const cursor = this.#pager.cursor;
    return { ...(this.#filter !== 'all' ? { state: this.#filter } : {}), ...(name ? { name } : {}), limit: PAGE_SIZE, ...(cursor ? { cursor } : {}) };
  }

  async #load(): Promise<void> {
    const query = this.#query();
    const key = JSON.stringify(query);
    let page: JobListPage;
    try {
      page = await this.api.list(query);
    } catch (err) {
      this.#renderCounts(this.#name.value ? undefined : this.#pushed);
      this.unavailable(hubErrorMessage(err));
      throw err;
    }
    // The filter or page changed while this was read: the re-read already asked for wins.
    if (JSON.stringify(this.#query()) !== key) return;
    if (page.jobs.length === 0 && this.#pager.hasNewer) {
      this.#pager.newer(); // the page emptied (jobs removed or moved on): show the one before
      this.refresh();
      return;
    }
    if (this.#status.dataset['kind'] === 'error' && this.#status.textContent?.startsWith('Job list unavailable')) this.#show('', '');
    this.#render(page);
  }

  #render(page: JobListPage): void {
    this.#renders++;
    this.#panel.dataset['renders'] = String(this.#renders);
    this.#nextCursor = page.nextCursor;
    this.#renderCounts(page.counts);
    const now = Date.now();
    const seen = new Set<string>();
    let owners = false;
    page.jobs.forEach((job, i) => {
      seen.add(job.jobId);
      owners ||= job.owner !== undefined;
      const row = this.#rows.get(job.jobId) ?? this.#create(job);
      row.job = job;
      this.#fill(row, now);
      // Move only rows that are out of place: moving a row would take focus from its buttons.
      if (this.#body.rows[i] !== row.tr) this.#body.insertBefore(row.tr, this.#body.rows[i] ?? null);
    });
    const lostFocus = [...this.#rows].some(([id, r]) => !seen.has(id) && r.tr.contains(document.activeElement));
    for (const [id, row] of this.#rows) {
      if (seen.has(id)) continue;
      row.tr.remove();
      this.#rows.delete(id);
    }
    if (lostFocus) byId('operator-heading').focus();
    this.#table.classList.toggle('has-owner', owners);
    this.#empty.hidden = page.jobs.length > 0;
    this.#newer.disabled = !this.#pager.hasNewer;
    this.#older.disabled = page.nextCursor === undefined;
    const total = tabCount(page.counts, this.#filter);
    const first = this.#pager.index * PAGE_SIZE + 1;
    const what = `${this.#filter === 'all' ? 'Jobs' : `${stateLabel(this.#filter)} jobs`}${this.#name.value ? ` named ${this.#name.value}` : ''}`;
    setText(this.#caption, page.jobs.length ? `${what} ${first.toLocaleString('en-US')}–${(first + page.jobs.length - 1).toLocaleString('en-US')}${total !== undefined ? ` of ${total.toLocaleString('en-US')}` : ''}, newest first` : `${what}: none`);
  }

  #renderCounts(counts: Readonly<Record<ListedJobState, number>> | undefined): void {
    for (const [tab, button] of this.#tabButtons) {
      const n = tabCount(counts, tab);
      setText(button.querySelector('.count')!, n === undefined ? '–' : n.toLocaleString('en-US'));
    }
  }

  #create(job: JobSnapshot): Row {
    const td = (cls: string, ...children: (Node | string)[]) => el('td', { class: cls }, ...children);
    const name = el('span', { class: 'op-name' });
    const state = el('span', { class: 'job-state' });
    const due = el('span', { class: 'op-due' });
    const error = el('span', { class: 'op-error' });
    const stage = el('span', { class: 'op-stage' });
    const progress = el('span', { class: 'op-progress' });
    const [attempt, owner, created, updated] = ['op-attempt num', 'op-owner col-owner', 'op-created', 'op-updated'].map((c) => td(c));
    const actions = el('div', { class: 'op-buttons' });
    const tr = el(
      'tr',
      { 'data-job-id': job.jobId },
      el('th', { scope: 'row', class: 'op-job' }, name, ' ', el('code', { class: 'job-id', title: job.jobId }, shortId(job.jobId))),
      td('op-state', state, due, error),
      td('op-where', stage, ' ', progress),
      attempt!,
      owner!,
      created!,
      updated!,
      td('op-actions', actions),
    );
    const row: Row = { tr, name, state, due, error, stage, progress, attempt: attempt!, owner: owner!, created: created!, updated: updated!, actions, job, actionKey: '' };
    this.#rows.set(job.jobId, row);
    return row;
  }

  #fill(row: Row, now: number): void {
    const { job } = row;
    setAttr(row.tr, 'data-state', job.state);
    setText(row.name, job.name);
    setText(row.state, stateLabel(job.state));
    setAttr(row.state, 'data-state', job.state);
    setText(row.due, job.state === 'delayed' && job.dueAt !== undefined ? dueText(job.dueAt, now) : '');
    setText(row.error, job.error ?? '');
    // Stage and progress on every row, terminal ones too: where a failed or cancelled job ended.
    setText(row.stage, job.stage ?? '–');
    setText(row.progress, `${percent(job.progress)}%`);
    const of = this.#attempts.get(job.name);
    // "2 of 3"; past the last attempt (a retried job) just the number.
    setText(row.attempt, of && job.attempt <= of ? `${job.attempt} of ${of}` : String(job.attempt));
    setText(row.owner, job.owner ?? '–');
    setText(row.created, formatWhen(job.createdAt, now));
    setText(row.updated, formatWhen(job.updatedAt, now));
    const actions = rowActions(job.state);
    const key = actions.join(',');
    if (key !== row.actionKey) {
      row.actionKey = key;
      row.actions.replaceChildren(
        ...actions.map((a) => {
          const b = el('button', { type: 'button', class: `op-${a}${a === 'retry' ? '' : ' secondary'}`, 'data-action': a, 'aria-label': `${ACTION_TEXT[a]} ${job.name} job ${job.jobId}` }, ACTION_TEXT[a]);
          b.addEventListener('click', () => void this.#act(a, row.job));
          return b;
        }),
      );
    }
    for (const b of row.actions.querySelectorAll('button')) b.disabled = this.#busy.has(job.jobId);
  }

  async #act(action: RowAction, job: JobSnapshot): Promise<void> {
    const id = job.jobId;
    this.#busy.add(id);
    const row = this.#rows.get(id);
    if (row) for (const b of row.actions.querySelectorAll('button')) b.disabled = true;
    const what = `${job.name} job ${id}`;
    try {
      if (action === 'retry') {
        await this.api.retry(id);
        this.#show('ok', `Retried ${what}: it is queued for another attempt.`);
      } else if (action === 'cancel') {
        const cancelled = await this.api.cancel(id);
        this.#show(cancelled ? 'ok' : 'error', cancelled ? `Cancelled ${what}.` : `Not cancelled: ${what} had already ended.`);
      } else {
        await this.api.remove(id);
        this.#show('ok', `Removed ${what}.`);
      }
    } catch (err) {
      // Verbatim: the hub's message starts with its stable code (SB_JOB_STATE_CONFLICT: …).
      this.#show('error', `${ACTION_TEXT[action]} of ${what} failed: ${hubErrorMessage(err)}`);
    } finally {
      this.#busy.delete(id);
      if (row) for (const b of row.actions.querySelectorAll('button')) b.disabled = false;
      this.refresh();
    }
  }

  #show(kind: 'ok' | 'error' | '', text: string): void {
    if (kind) this.#status.dataset['kind'] = kind;
    else delete this.#status.dataset['kind'];
    setText(this.#status, text);
  }
}
