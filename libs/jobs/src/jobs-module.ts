import { existsSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { SwitchboardError, isSwitchboardError } from '@switchboard/protocol';
import { JobCatalog } from './job-set.js';

/** The example job set (`hash`, `pipeline`) that runs when JOBS_MODULE is not set. */
export const DEMO_JOBS_MODULE = fileURLToPath(new URL('./examples/demo-jobs.js', import.meta.url));

/**
 * Imports a job set module: an ES module whose default export is an array of job definitions.
 * `spec` is a path (relative to `cwd`) or a `file:` URL. Every failure is SB_JOB_SET_INVALID with
 * a message naming the module and what is wrong: missing file, a module that throws on import,
 * no default export, not an array, an entry that is not a job definition, a duplicate name.
 */
export async function loadJobsModule(spec: string, cwd = process.cwd()): Promise<JobCatalog> {
  if (typeof spec !== 'string' || !spec.trim()) throw new SwitchboardError('SB_JOB_SET_INVALID', 'JOBS_MODULE is empty: give the path of an ES module whose default export is your job set.');
  const path = spec.startsWith('file:') ? fileURLToPath(spec) : isAbsolute(spec) ? spec : resolve(cwd, spec);
  const label = `JOBS_MODULE '${spec}'${spec === path ? '' : ` (${path})`}`;
  if (!existsSync(path)) throw new SwitchboardError('SB_JOB_SET_INVALID', `${label} does not exist: give the path of the built ES module (.js or .mjs) whose default export is your job set.`);
  let mod: { default?: unknown };
  try {
    mod = (await import(pathToFileURL(path).href)) as { default?: unknown };
  } catch (err) {
    throw new SwitchboardError('SB_JOB_SET_INVALID', `${label} could not be imported: ${(err as Error).message ?? String(err)}`, { cause: err });
  }
  if (!('default' in mod) || mod.default === undefined) {
    throw new SwitchboardError('SB_JOB_SET_INVALID', `${label} has no default export: end it with \`export default [myJob, otherJob]\` (job definitions made with defineJob).`);
  }
  try {
    return JobCatalog.of(mod.default as never, label);
  } catch (err) {
    if (isSwitchboardError(err)) throw err;
    throw new SwitchboardError('SB_JOB_SET_INVALID', `${label}: ${(err as Error).message}`);
  }
}
