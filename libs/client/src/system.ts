import type { ConnectionInfo, SystemClient, SystemServer, SystemStats } from '@switchboard/contracts';
import { HubClient } from './hub-client.js';

/** A connection to the system hub (`/hubs/system`): who serves this connection, and live system figures. */
export class SystemConnection extends HubClient<SystemServer, SystemClient> implements SystemServer {
  /** The hub node serving this connection, and how it sees the connection. */
  whoami(): Promise<ConnectionInfo> {
    return this.invoke('whoami');
  }

  /** The latest figures at once; the hub then pushes them about every second to `onStats`. */
  stats(): Promise<SystemStats> {
    return this.invoke('stats');
  }

  /** Gets every pushed `systemStats`; returns a function that removes the handler. */
  onStats(handler: (stats: SystemStats) => void): () => void {
    return this.on('systemStats', handler);
  }
}
