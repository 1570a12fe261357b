import { base64ToBytes, publicKeyFingerprint } from '@concord/crypto';
import { verifyBoxKeyStatement } from '@concord/protocol';
import { Command } from 'commander';
import { AuditLog } from '../store/audit-log';
import { readConfig } from '../store/config';
import { PendingAnswerStore } from '../store/pending-answer';
import { LocalPrivacyLedger } from '../store/privacy-ledger';
import { describeTeacherSource, teacherModelDirs, teacherSourceFromFlags, type TeacherFlags } from '../training/teachers';
import { type CliEnvironment, line, loadIdentity, pathsFor, withDirOption } from './context';

interface StatusOptions extends TeacherFlags {
  dir?: string;
}

/** `status`: enrollment, teachers, local budget, last batch. Reads local files only; sends nothing. */
export function statusCommand(env: CliEnvironment): Command {
  return withDirOption(new Command('status'))
    .description('show enrollment, teachers, local budget and the last batch (local files only)')
    .option('--teachers-dir <dir>', 'tfjs teacher models to count')
    .option('--teachers-module <path>', 'teachers module')
    .option('--predictor-url <url>', 'site-local predictor')
    .action(async (options: StatusOptions) => {
      const paths = pathsFor(options, env);
      const config = await readConfig(paths.config);
      const identity = await loadIdentity(paths);
      line(env, `state directory: ${paths.dir}`);
      line(env, `signing key fingerprint: ${publicKeyFingerprint(identity.signing.publicKey)}`);
      const e = config.enrollment;
      if (e === null) line(env, 'enrollment: not enrolled');
      else {
        line(
          env,
          `enrollment: agent ${e.agentId}, institution ${e.institutionId}, coordinator ${e.coordinatorUrl} (since ${e.enrolledAt})`,
        );
        line(
          env,
          `coordinator fingerprint: ${publicKeyFingerprint(base64ToBytes(e.coordinatorSigningPublicKey, 'coordinatorSigningPublicKey', 32))}`,
        );
        const boxKeyStatus =
          e.coordinatorBoxKeySignature === undefined
            ? 'not yet signed (enrolled before signed box keys; the next `run` fetches and verifies it)'
            : verifyBoxKeyStatement(
                  { coordinatorSigningPublicKey: e.coordinatorSigningPublicKey, boxPublicKey: e.coordinatorBoxPublicKey },
                  e.coordinatorBoxKeySignature,
                )
              ? 'signed by the pinned signing key'
              : 'signature DOES NOT VERIFY: `run` will refuse to seal anything';
        line(env, `coordinator box key: ${e.coordinatorBoxPublicKey} (${boxKeyStatus})`);
        line(env, `teachers declared at enrollment: ${e.teachers ?? 'none'}`);
      }
      const source = teacherSourceFromFlags(options) ?? config.teachers;
      if (source === null) line(env, 'teachers: none configured');
      else if (source.kind === 'dir') {
        let found: string;
        try {
          found = `${teacherModelDirs(source.path).length} found`;
        } catch (error) {
          found = error instanceof Error ? error.message : String(error);
        }
        line(env, `teachers: ${describeTeacherSource(source)} (${found})`);
      } else line(env, `teachers: ${describeTeacherSource(source)}`);
      const ledger = await LocalPrivacyLedger.open(paths.ledger);
      if (config.cap === null) line(env, `local budget: no cap set (${ledger.all.length} batch(es) charged)`);
      else {
        const spent = ledger.epsilonSpent(config.cap.delta);
        line(
          env,
          `local budget: ε spent ${spent.toFixed(6)} of ${config.cap.epsilon} at δ = ${config.cap.delta}; remaining ${Math.max(0, config.cap.epsilon - spent).toFixed(6)}`,
        );
      }
      const last = ledger.last;
      line(
        env,
        last === undefined
          ? 'last batch: none'
          : `last batch: ${last.batchId} (job ${last.jobId}, attempt ${last.attempt}) charged ${last.time}`,
      );
      const acks = (await new AuditLog(paths.audit).read()).filter((r) => r.type === 'acknowledged');
      const ack = acks[acks.length - 1];
      if (ack !== undefined) line(env, `last acknowledgement: ${ack.batchId} ${ack.outcome} at ${ack.time}`);
      const pending = await new PendingAnswerStore(paths.pending, paths.rejected).read();
      if (pending !== null) line(env, `pending: sealed answer to ${pending.batchId} not yet acknowledged (resent by the next run)`);
    });
}
