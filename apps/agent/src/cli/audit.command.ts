import { Command } from 'commander';
import { AuditLog } from '../store/audit-log';
import { type CliEnvironment, line, pathsFor, withDirOption } from './context';

interface AuditOptions {
  dir?: string;
  json?: boolean;
  job?: string;
}

/** `audit`: every payload this agent sealed, in the clear, and what the coordinator answered. */
export function auditCommand(env: CliEnvironment): Command {
  return withDirOption(new Command('audit'))
    .description('print every payload sent to the coordinator (rows in the clear, envelope hash) and its acknowledgement')
    .option('--json', 'print the raw JSON lines')
    .option('--job <id>', 'only this job')
    .action(async (options: AuditOptions) => {
      const records = (await new AuditLog(pathsFor(options, env).audit).read()).filter(
        (r) => options.job === undefined || r.jobId === options.job,
      );
      if (options.json === true) {
        for (const record of records) line(env, JSON.stringify(record));
        return;
      }
      if (records.length === 0) line(env, 'nothing sent yet');
      for (const r of records) {
        if (r.type === 'sealed') {
          line(env, `${r.time}  SENT  job ${r.jobId}  batch ${r.batchId} (seq ${r.seq}, attempt ${r.attempt})  to ${r.coordinatorUrl}`);
          line(env, `    ${r.kind} of ${r.teachers} teachers, envelope sha256 ${r.envelopeSha256}, nonce ${r.nonce}`);
          r.rows.forEach((row, i) => line(env, `    query ${r.queryIndices[i]}: [${row.join(', ')}]`));
        } else {
          line(
            env,
            `${r.time}  ACK   job ${r.jobId}  batch ${r.batchId} (attempt ${r.attempt})  ${r.outcome} (HTTP ${r.httpStatus})${r.detail ? `: ${r.detail}` : ''}`,
          );
        }
      }
    });
}
