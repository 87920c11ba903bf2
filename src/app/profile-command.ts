/**
 * `dhtchat profile [--name NAME] [--json]`: shows or sets your own name — the one friends are sent (a profile
 * frame when a session comes up and when it changes) and friend requests carry. It lives in profile.json, as
 * `init --name` writes it. With a daemon running the daemon saves it and tells the friends online at once;
 * without one the file is written here and the daemon sends it when it next connects to them.
 */
import type { Command } from 'commander';
import { DhtchatError } from '../runtime/index.ts';
import { callDaemon } from './chat-api-client.ts';
import type { ProfileView } from './chat-api-types.ts';
import {
  ChatAppErrorCode,
  dataDirOf,
  loadChat,
  readProfile,
  readPublicKey,
  writeProfile,
} from './chat-data-dir.ts';
import { printJson } from './chat-output.ts';
import { formatProfile } from './contact-output.ts';
import { terminalSafe } from './terminal-text.ts';

export function registerProfileCommand(program: Command): void {
  program
    .command('profile')
    .description('show or set your own name (the one your friends see)')
    .option('--name <NAME>', 'set your name (1-64 characters); it is sent to your friends')
    .option('--json', 'print {"name","code"}')
    .action(async (flags: { name?: string; json?: boolean }, cmd: Command) => {
      const dataDir = dataDirOf(cmd);
      const name = flags.name?.trim();
      if (name !== undefined) {
        const problem = (await loadChat()).nameProblem(name);
        if (problem !== undefined)
          throw new DhtchatError('CHAT_NAME_INVALID', `your name is not usable: ${problem}`);
      }
      const { profile, isDaemonRunning } = await (name === undefined
        ? showProfile(dataDir)
        : setProfile(dataDir, name));
      if (flags.json) printJson(profile);
      else if (name === undefined) process.stdout.write(`${formatProfile(profile).join('\n')}\n`);
      else {
        const when = isDaemonRunning
          ? 'sent to your friends online now'
          : 'your daemon sends it when it next starts';
        process.stdout.write(`your name is now "${terminalSafe(name)}" (${when})\n`);
      }
    });
}

interface ProfileOutcome {
  readonly profile: ProfileView;
  readonly isDaemonRunning: boolean;
}

async function showProfile(dataDir: string): Promise<ProfileOutcome> {
  return withDaemonOrFile(
    async () => (await callDaemon(dataDir, 'GET', '/v1/profile')) as ProfileView,
    async () => profileFromFiles(dataDir),
  );
}

async function setProfile(dataDir: string, name: string): Promise<ProfileOutcome> {
  return withDaemonOrFile(
    async () => (await callDaemon(dataDir, 'POST', '/v1/profile', { name })) as ProfileView,
    async () => {
      await readPublicKey(dataDir); // no identity: say so rather than leave a lone profile.json
      await writeProfile(dataDir, { name });
      return profileFromFiles(dataDir);
    },
  );
}

/** The daemon when one runs (it holds the name friends are sent), else the files. */
async function withDaemonOrFile(
  viaDaemon: () => Promise<ProfileView>,
  viaFiles: () => Promise<ProfileView>,
): Promise<ProfileOutcome> {
  try {
    return { profile: await viaDaemon(), isDaemonRunning: true };
  } catch (error) {
    if (!(error instanceof DhtchatError) || error.code !== ChatAppErrorCode.noDaemon) throw error;
    return { profile: await viaFiles(), isDaemonRunning: false };
  }
}

async function profileFromFiles(dataDir: string): Promise<ProfileView> {
  const { publicKey } = await readPublicKey(dataDir);
  const { name } = await readProfile(dataDir);
  return { name: name ?? null, code: (await loadChat()).encodeFriendCode(publicKey) };
}
