import { SwitchboardError } from '@switchboard/protocol';
import type { ClientMethods } from './clients.js';

// Type-level only: never assigned, so nothing exists at run time (`declare` emits no code).
declare const clientOf: unique symbol;

/**
 * A hub declared once: its short name, its path and its client interface `C` (type only). Put it
 * in a module that both the hub node and the workers import, then
 * `hubs.mapHub(ref, definition)` serves it and `createHubContext({ hub: ref, redis })` reaches it,
 * so the two cannot disagree on the name (a typo is an unknown identifier, not a silent miss) or
 * on the client interface. Plain data: safe to import where no HTTP server or `ws` is loaded.
 */
export interface HubRef<C extends ClientMethods> {
  /**
   * The hub's short name, lower-cased: the last segment of `path`. Backplane channels are named
   * by it (`<prefix><name>:...`), so hub nodes and hub contexts meet on it.
   */
  readonly name: string;
  /** Where `mapHub(ref, ...)` mounts the hub: `/hubs/<name>` unless `hubRef` was given a path. */
  readonly path: string;
  /**
   * The client interface, at the type level only (never set). A function of `C` both ways makes
   * refs invariant in `C`: a ref of one interface is not accepted where another is expected.
   */
  readonly [clientOf]?: (client: C) => C;
}

/** Options of `hubRef`. */
export interface HubRefOptions {
  /** Mount path; its last segment must be the hub name (that is how nodes name it). @defaultValue `/hubs/<name>` */
  path?: string;
}

/**
 * Declares a hub: `export const notificationsHub = hubRef<NotificationsClient>('notifications')`
 * (served at `/hubs/notifications`). The name is matched case-insensitively, as paths are.
 * Throws SB_CONFIG_INVALID for an empty name, a name with `/`, or a `path` whose last segment is
 * not the name (the hub context would publish where no node of that hub listens).
 */
export function hubRef<C extends ClientMethods>(name: string, options: HubRefOptions = {}): HubRef<C> {
  if (typeof name !== 'string' || !name.trim() || name.includes('/')) {
    throw new SwitchboardError('SB_CONFIG_INVALID', `hubRef: the hub name must be a non-empty path segment such as 'chat' (got ${JSON.stringify(name)}).`);
  }
  const lower = name.toLowerCase();
  const path = options.path ?? `/hubs/${lower}`;
  if (typeof path !== 'string' || !path.startsWith('/')) {
    throw new SwitchboardError('SB_CONFIG_INVALID', `hubRef('${name}'): path must start with '/' (got ${JSON.stringify(path)}).`);
  }
  if (hubNameOf(path) !== lower) {
    throw new SwitchboardError(
      'SB_CONFIG_INVALID',
      `hubRef('${name}'): the last segment of path '${path}' is '${hubNameOf(path)}', not the hub name; hub nodes name a hub by its path's last segment, so hub contexts would not reach it.`,
    );
  }
  return Object.freeze({ name: lower, path });
}

/** The short hub name for a path: `/hubs/chat` → `chat` (lower-cased; `hub` for `/`). */
export function hubNameOf(path: string): string {
  const segments = path.toLowerCase().split('/').filter(Boolean);
  return segments[segments.length - 1] ?? 'hub';
}
