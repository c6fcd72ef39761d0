export * from './jobs.js';
export * from './hubs.js';
export * from './system.js';
