import { mkdir } from 'node:fs/promises';
import { generateIdentity, publicKeyFingerprint, writeKeyFile } from '@concord/crypto';
import { Command } from 'commander';
import { newConfig, writeConfig } from '../store/config';
import { isErrno } from '../store/files';
import { teacherSourceFromFlags, type TeacherFlags } from '../training/teachers';
import { type CliEnvironment, line, pathsFor, withDirOption } from './context';
import { AgentError, EXIT } from './errors';

interface InitOptions extends TeacherFlags {
  dir?: string;
  url?: string;
}

/** `init`: creates the identity (private keys, 0600) and agent.json. Nothing leaves the machine. */
export function initCommand(env: CliEnvironment): Command {
  return withDirOption(new Command('init'))
    .description('create this site’s keys (Ed25519 + X25519) and configuration; sends nothing')
    .option('--url <url>', 'coordinator URL to remember')
    .option('--teachers-dir <dir>', 'tfjs teacher models, one subdirectory each')
    .option('--teachers-module <path>', 'JS module exporting predict(features)')
    .option('--predictor-url <url>', 'site-local prediction service')
    .action(async (options: InitOptions) => {
      const paths = pathsFor(options, env);
      const teachers = teacherSourceFromFlags(options);
      await mkdir(paths.dir, { recursive: true, mode: 0o700 });
      const identity = generateIdentity();
      try {
        await writeKeyFile(paths.identity, identity);
      } catch (error) {
        if (isErrno(error, 'EEXIST')) {
          throw new AgentError(
            `${paths.identity} already exists: refusing to overwrite this site’s keys (move it away first if you really mean to)`,
            EXIT.configuration,
          );
        }
        throw error;
      }
      await writeConfig(paths.config, newConfig(options.url ?? null, teachers));
      line(env, `identity:  ${paths.identity} (mode 0600)`);
      line(env, `config:    ${paths.config}`);
      line(env, `signing key fingerprint: ${publicKeyFingerprint(identity.signing.publicKey)}`);
      line(env, 'next: concord-agent enroll --url <coordinator> --token <enrollment token>');
    });
}
