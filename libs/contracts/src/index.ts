export * from './jobs.js';
export * from './hubs.js';
