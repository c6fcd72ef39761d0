import type { AnyJob, JobShape } from '@switchboard/contracts';
import { SwitchboardError } from '@switchboard/protocol';
import { isJobDefinition, type JobDefinition } from './define-job.js';
import { describe } from './define-task.js';

/** A job set: the job definitions a deployment runs (`export default [reportJob, exportJob]`). */
export type JobSet = readonly JobDefinition<any, any, any, any, any>[];

/**
 * A validated job set, looked up by name: what JobsService, JobsWorker and the jobs hub use. There is
 * no global registry: every process builds its catalog from the job set it is given (JOBS_MODULE).
 */
export class JobCatalog<J extends JobShape = AnyJob> {
  readonly #byName: ReadonlyMap<string, JobDefinition>;
  /** The job names, in the set's order. */
  readonly names: readonly string[];

  private constructor(readonly definitions: JobSet) {
    this.#byName = new Map(definitions.map((d) => [d.name, d]));
    this.names = Object.freeze(definitions.map((d) => d.name));
  }

  /**
   * Checks a job set: an array of `defineJob` results with distinct names (SB_JOB_SET_INVALID
   * otherwise, naming the entry and what is wrong). `source` says where it came from, for messages.
   */
  static of<S extends JobSet>(set: S | JobCatalog, source = 'the job set'): JobCatalog {
    if (set instanceof JobCatalog) return set;
    if (!Array.isArray(set)) {
      throw new SwitchboardError('SB_JOB_SET_INVALID', `${source} must be an array of job definitions (defineJob results), got ${describe(set)}.`);
    }
    const seen = new Set<string>();
    set.forEach((entry: unknown, i) => {
      if (!isJobDefinition(entry)) {
        const name = typeof entry === 'object' && entry !== null && typeof (entry as { name?: unknown }).name === 'string' ? ` ('${(entry as { name: string }).name}')` : '';
        throw new SwitchboardError('SB_JOB_SET_INVALID', `${source}: entry ${i}${name} is not a job definition (${describe(entry)}); make each entry with defineJob({ name, schema, process }) from @switchboard/jobs.`);
      }
      if (seen.has(entry.name)) throw new SwitchboardError('SB_JOB_SET_INVALID', `${source}: the job name '${entry.name}' appears twice; job names must be unique.`);
      seen.add(entry.name);
    });
    return new JobCatalog(Object.freeze([...set]));
  }

  get(name: string): JobDefinition | undefined {
    return this.#byName.get(name);
  }

  has(name: unknown): name is J['name'] {
    return typeof name === 'string' && this.#byName.has(name);
  }

  /** Validates a job request; errors name the job, the field and what is expected. */
  validate(name: unknown, data: unknown): { name: string; data: unknown; definition: JobDefinition } {
    const definition = typeof name === 'string' ? this.#byName.get(name) : undefined;
    if (!definition) {
      throw new SwitchboardError('SB_JOB_UNKNOWN', `Unknown job name ${JSON.stringify(name)}; known jobs: ${this.names.join(', ') || '(none: the job set is empty)'}.`);
    }
    const parsed = definition.schema.safeParse(data);
    if (!parsed.success) {
      const detail = parsed.error.issues.map((i) => `${i.path.length ? i.path.map(String).join('.') : 'data'}: ${i.message}`).join('; ');
      throw new SwitchboardError('SB_JOB_INVALID_DATA', `Invalid data for job '${definition.name}': ${detail}.`);
    }
    return { name: definition.name, data: parsed.data, definition };
  }
}
