export * from './bytes';
export * from './canonical-json';
export * from './signature';
export * from './keys';
export * from './envelope';
export * from './chain';
export * from './request-signing';
export * from './secure-random';
