import type { ConnectionState, ConnectionStatus } from '@switchboard/client';
import { byId, setAttr, setText } from './dom.js';

type AnyHub = ConnectionStatus;

function describe(hub: AnyHub, optional: boolean): { state: string; text: string } {
  switch (hub.state) {
    case 'connected':
      return { state: 'connected', text: `connected${hub.transport ? ` (${hub.transport})` : ''}` };
    case 'reconnecting':
      return { state: 'reconnecting', text: 'reconnecting…' };
    case 'connecting':
      // A hub this node does not have (yet) answers negotiate with 404: say so rather than spin.
      if (optional && hub.lastError) return { state: 'unavailable', text: 'unavailable (retrying)' };
      return { state: 'connecting', text: hub.lastError ? 'connecting… (retrying)' : 'connecting…' };
    case 'disconnected':
      return { state: optional ? 'unavailable' : 'disconnected', text: optional ? 'unavailable' : 'disconnected' };
  }
}

const OVERALL: Record<ConnectionState, string> = {
  connected: 'Connected',
  connecting: 'Connecting…',
  reconnecting: 'Connection lost: reconnecting… Your jobs are watched again as soon as it is back.',
  disconnected: 'Disconnected. Reload the page to try again.',
};

/**
 * The header: one overall status (a polite live region) from the jobs and chat connections, the
 * state and transport of each hub connection, and the transport of the jobs connection.
 */
export class StatusView {
  readonly #status = byId('status');
  readonly #transport = byId('transport');

  constructor(private readonly hubs: { jobs: AnyHub; chat: AnyHub; system: AnyHub }) {
    for (const hub of Object.values(hubs)) hub.onStateChange(() => this.render());
    this.render();
  }

  render(): void {
    const { jobs, chat, system } = this.hubs;
    for (const [id, hub, optional] of [['conn-jobs', jobs, false], ['conn-chat', chat, false], ['conn-system', system, true]] as const) {
      const d = describe(hub, optional);
      const node = byId(id);
      setAttr(node, 'data-state', d.state);
      setText(node, d.text);
    }
    const states = [jobs.state, chat.state];
    const overall: ConnectionState = states.includes('reconnecting')
      ? 'reconnecting'
      : states.includes('disconnected')
        ? 'disconnected'
        : states.includes('connecting')
          ? 'connecting'
          : 'connected';
    setAttr(this.#status, 'data-state', overall);
    setText(this.#status, OVERALL[overall]);
    setText(this.#transport, jobs.transport ?? '–');
  }
}
