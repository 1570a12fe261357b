export * from './dp-event';
export { DpEventError, UnsupportedEventError } from './errors';
export { parseDpEvent } from './parse';
