/**
 * `dhtchat init [--name NAME] [--json]` and `dhtchat id [--json]`: the user's identity, no daemon needed.
 * init never replaces an existing identity (friends know that key): it fails with CHAT_IDENTITY_EXISTS.
 */
import { type Command, InvalidArgumentError } from 'commander';
import { cryptoRandom, DhtchatError } from '../runtime/index.ts';
import {
  dataDirOf,
  identityPath,
  loadChat,
  passphraseFromEnv,
  readProfile,
  readPublicKey,
  writeProfile,
} from './chat-data-dir.ts';
import { ensureDataDir } from './data-dir.ts';
import { displayNameProblem, MAX_DISPLAY_NAME_CHARS } from './display-name.ts';
import { terminalSafe } from './terminal-text.ts';

export function registerChatIdentityCommands(program: Command): void {
  program
    .command('init')
    .description('create your identity (key pair) in the data dir and print your friend code')
    .option('--name <NAME>', 'your display name (kept in the data dir)', parseDisplayName)
    .option('--json', 'print {"code":..}')
    .action(async (flags: { name?: string; json?: boolean }, command: Command) => {
      const code = await createIdentity(dataDirOf(command), flags.name);
      process.stdout.write(flags.json ? `${JSON.stringify({ code })}\n` : `${code}\n`);
    });

  program
    .command('id')
    .description('print your friend code (and name)')
    .option('--json', 'print {"code","publicKey","name","isProtected"}')
    .action(async (flags: { json?: boolean }, command: Command) => {
      const dataDir = dataDirOf(command);
      const { publicKey, isProtected } = await readPublicKey(dataDir);
      const { name } = await readProfile(dataDir, (problem) =>
        process.stderr.write(`warning: the name in profile.json is ignored: ${terminalSafe(problem)}\n`),
      );
      const code = (await loadChat()).encodeFriendCode(publicKey);
      if (flags.json) {
        const out = { code, publicKey: publicKey.toString('hex'), name: name ?? null, isProtected };
        process.stdout.write(`${JSON.stringify(out)}\n`);
        return;
      }
      process.stdout.write(`${code}\n`);
      if (name !== undefined) process.stdout.write(`name: ${terminalSafe(name)}\n`);
      if (isProtected) process.stdout.write('the key is protected by a passphrase\n');
    });
}

/** Makes a new identity in dataDir (passphrase from the environment); returns its friend code. */
export async function createIdentity(dataDir: string, name?: string): Promise<string> {
  await ensureDataDir(dataDir);
  const { encodeFriendCode, encodeIdentityFile, generateIdentity, writeIdentityFile } = await loadChat();
  const identity = generateIdentity(cryptoRandom);
  const bytes = await encodeIdentityFile(identity, { passphrase: passphraseFromEnv(), random: cryptoRandom });
  await writeIdentityFile(await identityPath(dataDir), bytes);
  if (name !== undefined) await writeProfile(dataDir, { name });
  return encodeFriendCode(identity.publicKey);
}

/** createIdentity unless dataDir has one already (`daemon --init`, the first run of `dhtchat`). */
export async function ensureIdentity(dataDir: string): Promise<void> {
  const { IdentityFileError } = await loadChat();
  try {
    await readPublicKey(dataDir);
  } catch (error) {
    if (!(error instanceof DhtchatError) || error.code !== IdentityFileError.notFound) throw error;
    await createIdentity(dataDir);
  }
}

/** A display name (display-name.ts): 1-64 printable characters, no control or bidi characters. */
export function parseDisplayName(text: string): string {
  const name = text.trim();
  const problem = displayNameProblem(name);
  if (problem !== undefined) {
    throw new InvalidArgumentError(
      `a name has 1-${MAX_DISPLAY_NAME_CHARS} printable characters (${problem}), got "${terminalSafe(text)}".`,
    );
  }
  return name;
}
