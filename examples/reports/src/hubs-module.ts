// HUBS_MODULE: maps this project's own hubs on every hub node (switchboard-hub).
import { defineHub, type HubServer } from '@switchboard/hub-server';
import { notificationsHub, type NotificationsClient } from './hubs.js';

export const notifications = defineHub<NotificationsClient>()({
  methods: {
    /** A browser or client checks it is connected. */
    ping: () => 'pong',
  },
});

export default function mapHubs(hubs: Pick<HubServer, 'mapHub'>): void {
  hubs.mapHub(notificationsHub, notifications);
}
