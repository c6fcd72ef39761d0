import type { HubUser } from './hub.js';

/** Who may use a hub or a method: any user, or users with at least one of `roles`. */
export interface AccessRule {
  readonly requireUser?: boolean | undefined;
  /** At least one of these roles (implies `requireUser`). */
  readonly roles?: readonly string[] | undefined;
}

/** `ok`, `unauthenticated` (no user: 401) or `forbidden` (a user without the role: 403). */
export type Admission = 'ok' | 'unauthenticated' | 'forbidden';

/** Whether `user` may use what `rule` guards (negotiate and connect for a hub, a call for a method). */
export function admit(rule: AccessRule, user: HubUser | undefined): Admission {
  const roles = rule.roles;
  if (!rule.requireUser && !roles?.length) return 'ok';
  if (!user) return 'unauthenticated';
  if (roles?.length && !roles.some((r) => user.roles?.includes(r))) return 'forbidden';
  return 'ok';
}
