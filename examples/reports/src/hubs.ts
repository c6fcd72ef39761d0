import { hubRef } from '@switchboard/hub-context';

/** What the notifications hub calls on browsers and other clients. */
export interface NotificationsClient {
  reportReady(note: { jobId: string; month: string; pages: number }): void;
}

/**
 * The hub's name and client interface, declared once: the hub node maps it (hubs-module.ts) and the
 * worker sends through it (jobs.ts), so the two cannot disagree on the name or the methods.
 */
export const notificationsHub = hubRef<NotificationsClient>('notifications');
