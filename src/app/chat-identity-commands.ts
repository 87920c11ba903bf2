/**
 * `dhtchat init [--name NAME] [--passphrase] [--json]` and `dhtchat id [--json]`: the user's identity, no daemon
 * needed. init never replaces an existing identity (friends know that key): it fails with CHAT_IDENTITY_EXISTS.
 * id checks the file's public key before printing it (src/chat/identity.ts says how far that check goes) and
 * refuses an altered one with CHAT_IDENTITY_CORRUPT, exit 1: a wrong friend code would send friends elsewhere.
 * id also tells a running daemon that the code is being shown (GET /v1/id), so that it looks for friend requests
 * every few seconds for a while (request-beacon.ts); without a daemon, or one that does not answer, it just prints.
 */
import { access } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { type Command, InvalidArgumentError } from 'commander';
import { cryptoRandom, DhtchatError } from '../runtime/index.ts';
import { callDaemon } from './chat-api-client.ts';
import {
  dataDirOf,
  identityPath,
  loadChat,
  newPassphrase,
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
    .option(
      '--passphrase',
      `protect the key with a passphrase (asked on the terminal, or $DHTCHAT_PASSPHRASE)`,
    )
    .option('--json', 'print {"code":..}')
    .action(async (flags: { name?: string; passphrase?: boolean; json?: boolean }, command: Command) => {
      // Refused before asking for a passphrase that could not be used (createIdentity checks again, atomically).
      if (flags.passphrase === true) await refuseExistingIdentity(dataDirOf(command));
      const passphrase =
        flags.passphrase === true
          ? await newPassphrase('New passphrase for your key', 'init --passphrase')
          : passphraseFromEnv();
      const code = await createIdentity(dataDirOf(command), flags.name, passphrase);
      process.stdout.write(flags.json ? `${JSON.stringify({ code })}\n` : `${code}\n`);
    });

  program
    .command('id')
    .description('print your friend code (and name)')
    .option('--json', 'print {"code","publicKey","name","isProtected"}')
    .action(async (flags: { json?: boolean }, command: Command) => {
      const dataDir = dataDirOf(command);
      const { publicKey, isProtected, isPublicKeyVerified } = await readPublicKey(dataDir);
      const { name } = await readProfile(dataDir, (problem) =>
        process.stderr.write(`warning: the name in profile.json is ignored: ${terminalSafe(problem)}\n`),
      );
      const code = (await loadChat()).encodeFriendCode(publicKey);
      if (flags.json) {
        const out = { code, publicKey: publicKey.toString('hex'), name: name ?? null, isProtected };
        process.stdout.write(`${JSON.stringify(out)}\n`);
        await tellDaemonCodeShown(dataDir);
        return;
      }
      process.stdout.write(`${code}\n`);
      if (name !== undefined) process.stdout.write(`name: ${terminalSafe(name)}\n`);
      if (isProtected) process.stdout.write('the key is protected by a passphrase\n');
      if (!isPublicKeyVerified) {
        process.stdout.write(
          '(an old-format key file: this code is verified only when the daemon unlocks it)\n',
        );
      }
      await tellDaemonCodeShown(dataDir);
    });
}

/** How long `id` waits for a running daemon to take note that the code was shown. */
const CODE_SHOWN_WAIT_MS = 2000;

/** Best effort: no daemon, a stale api.json or a slow daemon only mean no quick request polls. */
async function tellDaemonCodeShown(dataDir: string): Promise<void> {
  const told = callDaemon(dataDir, 'GET', '/v1/id').catch(() => undefined);
  await Promise.race([told, sleep(CODE_SHOWN_WAIT_MS, undefined, { ref: false })]);
}

/** Makes a new identity in dataDir (protected when a passphrase is given); returns its friend code. */
export async function createIdentity(dataDir: string, name?: string, passphrase?: string): Promise<string> {
  await ensureDataDir(dataDir);
  const { encodeFriendCode, encodeIdentityFile, generateIdentity, writeIdentityFile } = await loadChat();
  const identity = generateIdentity(cryptoRandom);
  const bytes = await encodeIdentityFile(identity, { passphrase, random: cryptoRandom });
  await writeIdentityFile(await identityPath(dataDir), bytes);
  if (name !== undefined) await writeProfile(dataDir, { name });
  return encodeFriendCode(identity.publicKey);
}

async function refuseExistingIdentity(dataDir: string): Promise<void> {
  const path = await identityPath(dataDir);
  const isPresent = await access(path).then(
    () => true,
    () => false,
  );
  if (isPresent) {
    const { IdentityFileError } = await loadChat();
    throw new DhtchatError(IdentityFileError.exists, `an identity already exists at ${path}`);
  }
}

/** createIdentity unless dataDir has one already (`daemon --init`, the first run of `dhtchat`). */
export async function ensureIdentity(dataDir: string): Promise<void> {
  const { IdentityFileError } = await loadChat();
  try {
    await readPublicKey(dataDir);
  } catch (error) {
    if (!(error instanceof DhtchatError) || error.code !== IdentityFileError.notFound) throw error;
    await createIdentity(dataDir, undefined, passphraseFromEnv());
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
