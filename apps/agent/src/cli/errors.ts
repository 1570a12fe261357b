/**
 * How the agent ends. Every failure an operator can act on is an `AgentError` with a message that
 * says what to do and an exit status a supervisor (systemd, a cron wrapper) can branch on.
 */
export const EXIT = {
  ok: 0,
  /** Anything unexpected: network exhausted its retries, a bug. */
  failure: 1,
  /** Bad flags or configuration, missing identity, not enrolled, coordinator key mismatch. */
  configuration: 2,
  /** The local privacy cap refuses the next batch: do not restart until an operator raises it. */
  localCapReached: 3,
  /** The coordinator rejected an answer as invalid (the answer is kept under rejected/). */
  answerRejected: 4,
} as const;

export type ExitStatus = (typeof EXIT)[keyof typeof EXIT];

export class AgentError extends Error {
  override readonly name = 'AgentError';

  constructor(
    message: string,
    readonly exitCode: ExitStatus = EXIT.failure,
  ) {
    super(message);
  }
}
