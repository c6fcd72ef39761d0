import { existsSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { HubServer, Logger } from '@switchboard/hub-server';
import { SwitchboardError } from '@switchboard/protocol';

/** What a HUBS_MODULE's default export gets: where to map hubs (with the node's auth guard), and the node's logger. */
export interface HubsModuleHost {
  readonly mapHub: HubServer['mapHub'];
}

/** The default export of a HUBS_MODULE: maps your own hubs on this node. */
export type MapHubs = (hubs: HubsModuleHost, context: { readonly logger: Logger }) => void | Promise<void>;

/**
 * Imports HUBS_MODULE: an ES module whose default export is a function that maps your own hubs,
 * `export default (hubs) => { hubs.mapHub(notificationsHub, notifications); }`. Failures are
 * SB_CONFIG_INVALID naming the module and what is wrong (the process then exits with 2).
 */
export async function loadHubsModule(spec: string, cwd = process.cwd()): Promise<MapHubs> {
  const path = spec.startsWith('file:') ? fileURLToPath(spec) : isAbsolute(spec) ? spec : resolve(cwd, spec);
  const label = `HUBS_MODULE '${spec}'`;
  if (!existsSync(path)) throw new SwitchboardError('SB_CONFIG_INVALID', `${label} does not exist (${path}): give the path of the built ES module that maps your hubs.`);
  let mod: { default?: unknown };
  try {
    mod = (await import(pathToFileURL(path).href)) as { default?: unknown };
  } catch (err) {
    throw new SwitchboardError('SB_CONFIG_INVALID', `${label} could not be imported: ${(err as Error).message}`);
  }
  if (typeof mod.default !== 'function') {
    throw new SwitchboardError('SB_CONFIG_INVALID', `${label} must default-export a function that maps your hubs: export default (hubs) => { hubs.mapHub('/hubs/notifications', notificationsHub); }.`);
  }
  return mod.default as MapHubs;
}
