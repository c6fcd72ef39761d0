/**
 * `@switchboard/jobs/hub`: the jobs hub and the jobs REST API, to mount on your own HubServer and
 * HTTP server. Workers do not need this entry (it loads the hub server).
 */
export { createJobsHub, type JobsHubOptions } from './jobs-hub.js';
export { handleJobsApi, type JobsApiHost } from './rest-api.js';
