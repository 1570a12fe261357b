/** A malformed event; `field` is the JSON path of the offending field (e.g. "event.events[2].sigma"). */
export class DpEventError extends Error {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(`${field}: ${message}`);
    this.name = 'DpEventError';
  }
}

/** An accountant met an event it cannot analyse; `kind` names it. */
export class UnsupportedEventError extends Error {
  constructor(
    readonly kind: string,
    detail?: string,
  ) {
    super(`unsupported DpEvent kind '${kind}'${detail ? `: ${detail}` : ''}`);
    this.name = 'UnsupportedEventError';
  }
}
