export { JobsService, type JobsServiceOptions } from './jobs-service.js';
export { JobsWorker, type JobsWorkerOptions } from './jobs-worker.js';
export { JobStore, parseSnapshot, TERMINAL, type JobPatch } from './job-store.js';
export { JobKeys, jobGroup, JOB_ID_PATTERN } from './keys.js';
export { JOB_DEFINITIONS, JOB_NAMES, validateJob, isJobName, type JobContext, type JobDefinition, type JobDefinitions } from './definitions.js';
export { TaskPool, type TaskPoolOptions, type RunOptions } from './pool.js';
export type { TaskTypes, TaskKind } from './tasks/types.js';
export { ProgressThrottle } from './progress-throttle.js';
