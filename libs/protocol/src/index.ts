export * from './version';
export * from './validation';
export * from './enrollment';
export * from './box-key';
export * from './agents';
export * from './client';
export * from './batches';
