export * from './wait.js';
export * from './http1.js';
export * from './targets.js';
export * from './client.js';
export * from './switchyard.js';
