import { defineHub } from '@switchboard/hub-server';

/** The WorkersWithSignalR clock: a worker process calls `onTimeReceived` on every client. */
export interface ClockClient {
  onTimeReceived(time: string): void;
}

/** No server methods: clients only listen; the clock worker publishes through the hub context. */
export const clockHub = defineHub<ClockClient>()({ methods: {} });
