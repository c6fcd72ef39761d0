import type { ConnectionStatus } from '@switchboard/client';
import { byId } from './dom.js';

/** sessionStorage key of the access token: kept for this tab only, gone when it closes. */
export const TOKEN_KEY = 'switchboard.accessToken';

/** The stored access token, if any (storage may be blocked: then there is none). */
export function storedToken(storage: Storage | undefined): string | undefined {
  try {
    return storage?.getItem(TOKEN_KEY) || undefined;
  } catch {
    return undefined;
  }
}

/**
 * The access-token form in the header. A hub node with AUTH_REQUIRED refuses connections without
 * a valid JWT (401). "Use token" stores the token in sessionStorage and reloads the page, so every
 * hub connection starts again with it (the connections read it through `accessTokenFactory`);
 * "Forget token" removes it. The status line says why connections are refused.
 */
export function mountTokenForm(storage: Storage | undefined, hubs: readonly ConnectionStatus[], reload: () => void): void {
  const panel = byId<HTMLDetailsElement>('token-panel');
  const form = byId<HTMLFormElement>('token-form');
  const input = byId<HTMLInputElement>('access-token');
  const status = byId('token-status');
  const current = storedToken(storage);
  const show = (text: string, kind: 'ok' | 'error' | '') => {
    if (status.textContent === text && (status.dataset['kind'] ?? '') === kind) return;
    status.textContent = text;
    if (kind) status.dataset['kind'] = kind;
    else delete status.dataset['kind'];
  };
  show(current ? 'Using the access token stored for this tab.' : '', current ? 'ok' : '');
  // Folded away on nodes without authentication; open when a token is in use or one is needed.
  if (current) panel.open = true;

  const save = (value: string | undefined) => {
    try {
      if (value) storage?.setItem(TOKEN_KEY, value);
      else storage?.removeItem(TOKEN_KEY);
    } catch {
      show('This browser blocks session storage, so the token cannot be kept.', 'error');
      return;
    }
    reload();
  };
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    const value = input.value.trim();
    if (!value) {
      show('Paste an access token (a JWT) first.', 'error');
      input.focus();
      return;
    }
    save(value);
  });
  byId('token-clear').addEventListener('click', () => save(undefined));

  // Explain refusals: 401 = no valid token, 403 = the user lacks a role.
  for (const hub of hubs) {
    hub.onStateChange(({ state, error }) => {
      if (state === 'connected') {
        if (status.dataset['kind'] === 'error') show(current ? 'Using the access token stored for this tab.' : '', current ? 'ok' : '');
        return;
      }
      const message = error?.message ?? '';
      if (/Status code '40[13]'/.test(message)) panel.open = true;
      if (/Status code '401'/.test(message)) {
        show(current ? 'The hub refused the access token (401): it may have expired. Paste a new one.' : 'This hub node requires an access token (401): paste one above.', 'error');
      } else if (/Status code '403'/.test(message)) {
        show("The hub refused this user (403): the token's user lacks a role the hub requires.", 'error');
      }
    });
  }
}
