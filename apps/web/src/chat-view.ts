import type { ChatConnection } from '@switchboard/client';
import { hubErrorMessage } from '@switchboard/client';
import { byId, el } from './dom.js';

const MAX_MESSAGES = 200;

/** The chat panel: `SendMessage` on submit, every `ReceiveMessage` appended (a polite live region). */
export function mountChat(chat: ChatConnection, storage: Storage | undefined): void {
  const form = byId<HTMLFormElement>('chat-form');
  const user = byId<HTMLInputElement>('chat-user');
  const message = byId<HTMLInputElement>('chat-message');
  const status = byId('chat-status');
  const list = byId<HTMLUListElement>('chat-messages');
  user.value = safeGet(storage, 'switchboard.chatName') ?? `guest-${Math.floor(Math.random() * 1000)}`;

  chat.onMessage((from, text) => {
    list.append(el('li', {}, el('strong', {}, from), `: ${text}`));
    while (list.children.length > MAX_MESSAGES) list.firstElementChild?.remove();
    list.lastElementChild?.scrollIntoView({ block: 'nearest' });
  });
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const name = user.value.trim();
    const text = message.value.trim();
    if (!name || !text) {
      status.dataset['kind'] = 'error';
      status.textContent = !name ? 'Enter a name to chat.' : 'Type a message first.';
      (!name ? user : message).focus();
      return;
    }
    if (chat.state !== 'connected') {
      status.dataset['kind'] = 'error';
      status.textContent = `Not sent: not connected to the chat hub (${chat.state}).`;
      return;
    }
    try {
      await chat.send(name, text);
      message.value = '';
      status.textContent = '';
      try {
        storage?.setItem('switchboard.chatName', name);
      } catch {
        // not persisted
      }
    } catch (err) {
      status.dataset['kind'] = 'error';
      status.textContent = `Not sent: ${hubErrorMessage(err)}`;
    }
    message.focus();
  });
}

function safeGet(storage: Storage | undefined, key: string): string | null {
  try {
    return storage?.getItem(key) ?? null;
  } catch {
    return null;
  }
}
