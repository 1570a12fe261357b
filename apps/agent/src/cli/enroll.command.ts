import { base64ToBytes, publicKeyFingerprint } from '@concord/crypto';
import { buildEnrollmentRequest } from '@concord/protocol';
import { Command } from 'commander';
import { readConfig, writeConfig } from '../store/config';
import { verifiedCoordinatorBoxKey } from '../transport/coordinator-box-key';
import { fetchCoordinatorIdentity, postEnrollment } from '../transport/coordinator-client';
import { DEFAULT_RETRY } from '../transport/retry';
import { type CliEnvironment, line, loadIdentity, parsePositiveInteger, pathsFor, withDirOption } from './context';
import { AgentError, EXIT } from './errors';

interface EnrollOptions {
  dir?: string;
  url: string;
  token: string;
  teachers?: string;
  name?: string;
  coordinatorKey?: string;
  coordinatorFingerprint?: string;
}

/**
 * `enroll`: fetches the coordinator's signing key, shows its fingerprint (compare it out of band,
 * or pin it with --coordinator-key / --coordinator-fingerprint), checks that its box key is signed
 * by that signing key (libs/protocol box-key.ts), and enrolls this site's PUBLIC keys with a
 * one-time token. Sends: the token, the two public keys, k, a name, a proof signature.
 */
export function enrollCommand(env: CliEnvironment): Command {
  return withDirOption(new Command('enroll'))
    .description('enroll this site’s public keys with the coordinator using a one-time token')
    .requiredOption('--url <url>', 'coordinator URL')
    .requiredOption('--token <token>', 'enrollment token from the consortium admin')
    .option('--teachers <k>', 'number of teachers this site declares')
    .option('--name <name>', 'a name for this agent (shown to the admin)')
    .option('--coordinator-key <base64>', 'pin the coordinator signing key (refuse any other)')
    .option('--coordinator-fingerprint <hex>', 'pin the SHA-256 fingerprint of the coordinator signing key')
    .action(async (options: EnrollOptions) => {
      const paths = pathsFor(options, env);
      const identity = await loadIdentity(paths);
      const config = await readConfig(paths.config);
      if (config.enrollment !== null) {
        throw new AgentError(
          `already enrolled as agent ${config.enrollment.agentId} with ${config.enrollment.coordinatorUrl}`,
          EXIT.configuration,
        );
      }
      const teachers = options.teachers === undefined ? undefined : parsePositiveInteger(options.teachers, '--teachers');
      const retry = { policy: { ...DEFAULT_RETRY, maxAttempts: 3 }, signal: env.signal };
      const coordinator = await fetchCoordinatorIdentity(options.url, env.fetch, retry);
      line(env, `coordinator signing key:  ${coordinator.signingPublicKey}`);
      line(env, `coordinator fingerprint:  ${coordinator.fingerprint}`);
      if (options.coordinatorKey !== undefined) {
        const pinned = publicKeyFingerprint(base64ToBytes(options.coordinatorKey, '--coordinator-key', 32));
        if (pinned !== coordinator.fingerprint) {
          throw new AgentError(
            `the coordinator at ${options.url} presents a different signing key than --coordinator-key: not enrolling`,
            EXIT.configuration,
          );
        }
        line(env, 'matches the pinned --coordinator-key');
      } else if (options.coordinatorFingerprint !== undefined) {
        if (options.coordinatorFingerprint.toLowerCase() !== coordinator.fingerprint) {
          throw new AgentError(
            `the coordinator at ${options.url} has fingerprint ${coordinator.fingerprint}, not the pinned ${options.coordinatorFingerprint}: not enrolling`,
            EXIT.configuration,
          );
        }
        line(env, 'matches the pinned --coordinator-fingerprint');
      } else {
        line(env, 'NOT pinned: compare this fingerprint with the one your consortium admin gave you before answering any batch');
      }
      // The box key travels beside the signing key; only the signing key's signature of it tells the
      // genuine key from one substituted in transit. Checked before the token is spent.
      verifiedCoordinatorBoxKey({
        pinnedSigningPublicKey: coordinator.signingPublicKey,
        boxPublicKey: coordinator.boxPublicKey,
        boxKeySignature: coordinator.boxKeySignature,
        source: `GET ${options.url.replace(/\/+$/, '')}/agents/coordinator`,
      });
      line(env, 'coordinator box key:      signed by this signing key');
      const request = buildEnrollmentRequest({
        token: options.token,
        coordinatorSigningPublicKey: coordinator.signingPublicKey,
        identity,
        ...(options.name !== undefined ? { agentName: options.name } : {}),
        ...(teachers !== undefined ? { teachers } : {}),
      });
      const response = await postEnrollment(options.url, request, env.fetch, retry);
      if (response.coordinatorSigningPublicKey !== coordinator.signingPublicKey) {
        throw new AgentError(
          'the enrollment answer names another coordinator signing key than the one checked: not storing it',
          EXIT.configuration,
        );
      }
      if (response.coordinatorBoxPublicKey !== coordinator.boxPublicKey) {
        throw new AgentError(
          'the enrollment answer names another coordinator box key than GET /agents/coordinator: not storing it',
          EXIT.configuration,
        );
      }
      verifiedCoordinatorBoxKey({
        pinnedSigningPublicKey: coordinator.signingPublicKey,
        boxPublicKey: response.coordinatorBoxPublicKey,
        boxKeySignature: response.coordinatorBoxKeySignature,
        source: 'the enrollment answer',
      });
      const url = options.url.replace(/\/+$/, '');
      await writeConfig(paths.config, {
        ...config,
        coordinatorUrl: url,
        enrollment: {
          coordinatorUrl: url,
          agentId: response.agentId,
          institutionId: response.institutionId,
          coordinatorSigningPublicKey: response.coordinatorSigningPublicKey,
          coordinatorBoxPublicKey: response.coordinatorBoxPublicKey,
          coordinatorBoxKeySignature: response.coordinatorBoxKeySignature,
          teachers: teachers ?? null,
          enrolledAt: new Date().toISOString(),
        },
      });
      line(env, `enrolled: agent ${response.agentId}, institution ${response.institutionId}`);
      if (config.cap === null) line(env, 'next: set the local privacy cap with `concord-agent budget --cap E --delta D`');
    });
}
