import type { ConnectionInfo, DelayStats, SystemStats } from '@switchboard/contracts';
import { byId, el, setAttr, setText } from './dom.js';

function transports(by: Readonly<Record<string, number>>): string {
  const parts = Object.entries(by).filter(([, n]) => n > 0).map(([t, n]) => `${t} ${n}`);
  return parts.length ? parts.join(', ') : '–';
}

/** `0.42 / 3.1 ms`; a dash when nothing arrived in the period or the node has no backplane. */
function delay(d: DelayStats | undefined): string {
  if (!d || d.sends === 0) return '–';
  const ms = (v: number) => (v < 10 ? v.toFixed(2) : v.toFixed(0));
  return `${ms(d.p50Ms)} / ${ms(d.p99Ms)} ms`;
}

/** The system panel: figures pushed by the system hub, or "unavailable" with the reason. */
export class SystemView {
  readonly #status = byId('system-status');
  readonly #figures = byId('system-figures');
  readonly #nodesBody = byId<HTMLTableElement>('nodes-table').tBodies[0]!;
  readonly #workersBody = byId<HTMLTableElement>('workers-table').tBodies[0]!;
  #self: string | undefined;

  unavailable(reason: string): void {
    setAttr(this.#status, 'data-state', 'unavailable');
    setText(this.#status, `unavailable: ${reason}`);
    this.#figures.hidden = true;
  }

  /** Marks the node that serves this page's system connection in the table. */
  setSelf(info: ConnectionInfo | undefined): void {
    this.#self = info?.nodeId;
  }

  render(stats: SystemStats): void {
    setAttr(this.#status, 'data-state', 'live');
    setText(this.#status, `live, updated ${new Date(stats.at).toLocaleTimeString()}`);
    this.#figures.hidden = false;
    const connections = stats.hubNodes.reduce((sum, n) => sum + n.connections, 0);
    setText(byId('fig-nodes'), String(stats.hubNodes.length));
    setText(byId('fig-connections'), String(connections));
    setText(byId('fig-workers'), String(stats.workers.length));
    setText(byId('fig-jps'), stats.jobsPerSecond.toFixed(1));
    setText(byId('fig-waiting'), String(stats.queue.waiting));
    setText(byId('fig-active'), String(stats.queue.active));
    setText(byId('fig-delayed'), String(stats.queue.delayed));
    setText(byId('fig-completed'), String(stats.queue.completed));
    setText(byId('fig-failed'), String(stats.queue.failed));
    this.#nodesBody.replaceChildren(
      ...[...stats.hubNodes]
        .sort((a, b) => a.nodeId.localeCompare(b.nodeId))
        .map((n) =>
          el(
            'tr',
            { 'data-node-id': n.nodeId, 'data-pid': n.pid },
            el('th', { scope: 'row' }, n.nodeId, n.nodeId === this.#self ? ' (this page)' : ''),
            el('td', {}, String(n.pid)),
            el('td', { class: 'num' }, String(n.connections)),
            el('td', {}, transports(n.byTransport)),
            el('td', { class: 'num', 'data-sends': n.backplaneDelay?.sends ?? 0 }, delay(n.backplaneDelay)),
          ),
        ),
    );
    this.#workersBody.replaceChildren(
      ...[...stats.workers]
        .sort((a, b) => a.workerId.localeCompare(b.workerId))
        .map((w) =>
          el(
            'tr',
            { 'data-worker-id': w.workerId, 'data-pid': w.pid },
            el('th', { scope: 'row' }, w.workerId),
            el('td', {}, String(w.pid)),
            el('td', { class: 'num' }, String(w.activeJobs)),
            el('td', { class: 'num' }, String(w.concurrency)),
            el('td', { class: 'num' }, String(w.poolSize)),
          ),
        ),
    );
  }
}
