import type { ClientMethods, ClientProxy, HubClients } from '@switchboard/hub-server/backplane';

/**
 * How many proxies each cached target keeps. A proxy is a Proxy, a Map and a closure per method
 * called (a few hundred bytes), so the cache stays well under a megabyte per target kind.
 */
export const TARGET_CACHE_SIZE = 1024;

/**
 * The proxies of the targets a worker sends to again and again (`group('job:42')` for every
 * update of a job, `user(id)`, `client(id)`), kept and handed out again instead of built per
 * call: building one costs a Proxy, a Map and, per method, a closure on first use, which showed
 * in a send's CPU (bench/README.md, "Publisher cost").
 *
 * Bounded, never a leak however many distinct names a process sends to (a job queue makes
 * millions of groups): past `max` entries the oldest-inserted is dropped (insertion order, not
 * least-recently-used: a hit costs one Map lookup and nothing else; a dropped hot name is just
 * rebuilt once). A proxy holds no state beyond its target, so sharing it changes nothing.
 */
export class ProxyCache<P> {
  private readonly entries = new Map<string, P>();

  constructor(
    private readonly make: (name: string) => P,
    private readonly max = TARGET_CACHE_SIZE,
  ) {}

  get(name: string): P {
    let proxy = this.entries.get(name);
    if (proxy === undefined) {
      proxy = this.make(name);
      if (this.entries.size >= this.max) this.entries.delete(this.entries.keys().next().value!);
      this.entries.set(name, proxy);
    }
    return proxy;
  }

  get size(): number {
    return this.entries.size;
  }
}

/** `clients` with `group`, `user` and `client` proxies cached per name (each its own bounded cache). */
export function cachedTargets<C extends ClientMethods>(clients: HubClients<C>, max = TARGET_CACHE_SIZE): HubClients<C> {
  const groups = new ProxyCache<ClientProxy<C>>((name) => clients.group(name), max);
  const users = new ProxyCache<ClientProxy<C>>((id) => clients.user(id), max);
  const connections = new ProxyCache<ClientProxy<C>>((id) => clients.client(id), max);
  return {
    ...clients,
    group: (name) => groups.get(name),
    user: (id) => users.get(id),
    client: (id) => connections.get(id),
  };
}
