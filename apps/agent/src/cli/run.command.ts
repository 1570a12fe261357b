import { Command } from 'commander';
import { runAnswerLoop } from '../answer/answer-loop';
import { AuditLog } from '../store/audit-log';
import { readConfig, requireEnrollment, writeConfig } from '../store/config';
import { PendingAnswerStore } from '../store/pending-answer';
import { LocalPrivacyLedger } from '../store/privacy-ledger';
import { openTeacherEnsemble, teacherSourceFromFlags, type TeacherFlags } from '../training/teachers';
import { refreshCoordinatorBoxKey } from '../transport/coordinator-box-key';
import { CoordinatorClient } from '../transport/coordinator-client';
import { DEFAULT_RETRY } from '../transport/retry';
import { type CliEnvironment, loadIdentity, logLine, parsePositiveInteger, pathsFor, withDirOption } from './context';
import { AgentError, EXIT } from './errors';

interface RunOptions extends TeacherFlags {
  dir?: string;
  url?: string;
  once?: boolean;
  pollInterval: string;
  maxRetries?: string;
}

/**
 * `run`: the answering daemon. Sends only sealed, signed institution-level rows (see
 * answer/answer-loop.ts); exits 0 on SIGTERM/SIGINT after the request in hand, 3 when the local cap
 * refuses a batch.
 */
export function runCommand(env: CliEnvironment): Command {
  return withDirOption(new Command('run'))
    .description('answer the coordinator’s batches with this site’s teachers, within the local cap')
    .option('--url <url>', 'coordinator URL (default: the one enrolled with)')
    .option('--once', 'answer what is available now, then exit')
    .option('--poll-interval <ms>', 'wait between polls when there is no batch', '5000')
    .option('--max-retries <n>', 'give up after n failed tries of one request (default: 8 with --once, unlimited otherwise)')
    .option('--teachers-dir <dir>', 'tfjs teacher models, one subdirectory each (model.json + weights.bin)')
    .option('--teachers-module <path>', 'JS module exporting predict(features) → [teacher][example][class]')
    .option('--predictor-url <url>', 'site-local service: POST {features} → {probabilities}')
    .action(async (options: RunOptions) => {
      const paths = pathsFor(options, env);
      const config = await readConfig(paths.config);
      const enrollment = requireEnrollment(config, paths.config);
      const identity = await loadIdentity(paths);
      if (config.cap === null)
        throw new AgentError('no local privacy cap set: run `concord-agent budget --cap E --delta D` first', EXIT.configuration);
      const source = teacherSourceFromFlags(options) ?? config.teachers;
      if (source === null)
        throw new AgentError('no teachers: give --teachers-dir, --teachers-module or --predictor-url', EXIT.configuration);
      const teachers = await openTeacherEnsemble(source, env.fetch);
      const log = (message: string): void => logLine(env, message);
      const maxAttempts =
        options.maxRetries !== undefined
          ? parsePositiveInteger(options.maxRetries, '--max-retries') + 1
          : options.once
            ? DEFAULT_RETRY.maxAttempts
            : Infinity;
      const retry = {
        policy: { ...DEFAULT_RETRY, maxAttempts },
        signal: env.signal,
        onRetry: (failure: Error, attempt: number, delayMs: number) => log(`${failure.message}; retry ${attempt} in ${delayMs} ms`),
      };
      const url = options.url ?? enrollment.coordinatorUrl;
      if (enrollment.coordinatorBoxKeySignature === undefined) {
        // Enrolled before box keys were signed: fetch the box key again and keep it only if the
        // pinned signing key signed it (runAnswerLoop checks it again before sealing anything).
        const verified = await refreshCoordinatorBoxKey(url, enrollment.coordinatorSigningPublicKey, env.fetch, retry);
        if (verified.coordinatorBoxPublicKey !== enrollment.coordinatorBoxPublicKey) {
          log(
            `the coordinator box key changed since enrollment: now ${verified.coordinatorBoxPublicKey}, signed by the pinned signing key`,
          );
        }
        Object.assign(enrollment, verified);
        await writeConfig(paths.config, { ...config, enrollment });
        log('coordinator box key: signature by the pinned signing key verified and stored');
      }
      const client = new CoordinatorClient(url, enrollment.agentId, identity, env.fetch, retry);
      log(
        `agent ${enrollment.agentId}: answering ${client.baseUrl} with ${teachers.description}; local cap ε ≤ ${config.cap.epsilon} at δ = ${config.cap.delta}`,
      );
      const result = await runAnswerLoop({
        client,
        identity,
        enrollment,
        cap: config.cap,
        ledger: await LocalPrivacyLedger.open(paths.ledger),
        audit: new AuditLog(paths.audit),
        pending: new PendingAnswerStore(paths.pending, paths.rejected),
        teachers,
        once: options.once === true,
        pollIntervalMs: parsePositiveInteger(options.pollInterval, '--poll-interval'),
        signal: env.signal,
        log,
      });
      log(
        `stopped (${result.stoppedBy === 'signal' ? 'signal received' : 'no batch waiting'}): ${result.answered} batch(es) answered, ${result.resent} resent`,
      );
    });
}
