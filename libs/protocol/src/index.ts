export * from './version';
export * from './validation';
export * from './enrollment';
export * from './agents';
export * from './client';
export * from './batches';
