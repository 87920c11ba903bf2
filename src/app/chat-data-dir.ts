/**
 * The chat's files in the data dir: identity.dat (src/chat/identity-file.ts), profile.json (the name given at
 * init), api.json (the running daemon's port and token). The data dir is the program-level `--data-dir` option
 * (before the subcommand), default $XDG_DATA_HOME/dhtchat.
 *
 * Passphrase: DHTCHAT_PASSPHRASE, when set and non-empty, protects a new identity (init) and unlocks one (daemon):
 * daemons and scripts start unattended; it is visible to the same user's processes, which can read the data dir
 * anyway. Without it, a person at a terminal is asked (passphrase-prompt.ts); with neither, the command fails
 * with a message naming the variable.
 */
import { constants, readFileSync, unlinkSync } from 'node:fs';
import { open, readFile, rename, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { Command } from 'commander';
import type { Identity } from '../chat/index.ts';
import { DhtchatError } from '../runtime/index.ts';
import { API_FILE, type ApiFile } from './chat-api-types.ts';
import { defaultDataDir } from './data-dir.ts';
import { displayNameProblem } from './display-name.ts';
import { canPrompt, PassphrasePromptError, promptPassphrase } from './passphrase-prompt.ts';

export const PROFILE_FILE = 'profile.json';
export const PASSPHRASE_ENV = 'DHTCHAT_PASSPHRASE';
/** The backup file's passphrase, when it should differ from the identity's (else DHTCHAT_PASSPHRASE serves). */
export const BACKUP_PASSPHRASE_ENV = 'DHTCHAT_BACKUP_PASSPHRASE';

export const ChatAppErrorCode = {
  noDaemon: 'APP_NO_DAEMON',
  badApiFile: 'APP_API_FILE',
} as const;

/** The program-level --data-dir (read from any subcommand), else the default. */
export function dataDirOf(command: Command): string {
  const given = command.optsWithGlobals()['dataDir'];
  return typeof given === 'string' && given !== '' ? given : defaultDataDir();
}

export function passphraseFromEnv(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const value = env[PASSPHRASE_ENV];
  return value === undefined || value === '' ? undefined : value;
}

/** The chat layer is loaded on first use: commands that do not need it (dht, clients, --help) start faster. */
export function loadChat(): Promise<typeof import('../chat/index.ts')> {
  return import('../chat/index.ts');
}

export async function identityPath(dataDir: string): Promise<string> {
  return join(dataDir, (await loadChat()).IDENTITY_FILE_NAME);
}

/** The public key, readable (and checked, see src/chat/identity.ts) without the passphrase. */
export async function readPublicKey(
  dataDir: string,
): Promise<{ publicKey: Buffer; isProtected: boolean; isPublicKeyVerified: boolean }> {
  const { readIdentityFile, inspectIdentityFile } = await loadChat();
  const file = await readIdentityFile(await identityPath(dataDir));
  return inspectIdentityFile(file.bytes);
}

/** Wrong passphrases typed at the prompt before giving up (each costs a scrypt, ~0.5 s). */
const PROMPT_ATTEMPTS = 3;

/**
 * The full identity: unlocked with DHTCHAT_PASSPHRASE when protected, else with a passphrase asked on the
 * terminal (up to 3 tries). isPrivate false means a loose file mode.
 */
export async function loadIdentity(dataDir: string): Promise<{ identity: Identity; isPrivate: boolean }> {
  const { readIdentityFile, decodeIdentityFile, inspectIdentityFile, IdentityError } = await loadChat();
  const path = await identityPath(dataDir);
  const file = await readIdentityFile(path);
  const fromEnv = passphraseFromEnv();
  const isAsking = fromEnv === undefined && inspectIdentityFile(file.bytes).isProtected && canPrompt();
  if (!isAsking) {
    try {
      return { identity: await decodeIdentityFile(file.bytes, fromEnv), isPrivate: file.isPrivate };
    } catch (error) {
      if (error instanceof DhtchatError && error.code === IdentityError.passphraseRequired) {
        throw new DhtchatError(error.code, `${error.message}: set ${PASSPHRASE_ENV}`, { cause: error });
      }
      throw error;
    }
  }
  for (let attempt = 1; ; attempt++) {
    const passphrase = await promptPassphrase(`Passphrase for ${path}`);
    try {
      return { identity: await decodeIdentityFile(file.bytes, passphrase), isPrivate: file.isPrivate };
    } catch (error) {
      const isWrong = error instanceof DhtchatError && error.code === IdentityError.wrongPassphrase;
      if (!isWrong || attempt >= PROMPT_ATTEMPTS) throw error;
      process.stderr.write('wrong passphrase, try again\n');
    }
  }
}

/**
 * The backup file's passphrase (`export`, `import`): DHTCHAT_BACKUP_PASSPHRASE, else DHTCHAT_PASSPHRASE, else
 * asked on the terminal (twice for a new file). Never empty: a backup holds the secret key.
 */
export async function backupPassphrase(isNew: boolean, what: string): Promise<string> {
  const backupEnv = process.env[BACKUP_PASSPHRASE_ENV];
  if (backupEnv !== undefined && backupEnv !== '') return backupEnv;
  const fromEnv = passphraseFromEnv();
  if (fromEnv !== undefined) return fromEnv;
  if (!canPrompt()) {
    throw new DhtchatError(
      PassphrasePromptError.unavailable,
      `${what} needs a passphrase for the backup: set ${BACKUP_PASSPHRASE_ENV} or ${PASSPHRASE_ENV} (stdin is not a terminal to ask on)`,
    );
  }
  return promptPassphrase(isNew ? 'New passphrase for the backup file' : 'Passphrase of the backup file', {
    isNew,
  });
}

/**
 * A passphrase to protect something new with: DHTCHAT_PASSPHRASE, else asked twice on the terminal. `what` ends
 * the error when neither is possible ("init --passphrase needs ...").
 */
export async function newPassphrase(question: string, what: string): Promise<string> {
  const fromEnv = passphraseFromEnv();
  if (fromEnv !== undefined) return fromEnv;
  if (!canPrompt()) {
    throw new DhtchatError(
      PassphrasePromptError.unavailable,
      `${what} needs a passphrase: set ${PASSPHRASE_ENV} (stdin is not a terminal to ask on)`,
    );
  }
  return promptPassphrase(question, { isNew: true });
}

export interface Profile {
  readonly name?: string;
}

/**
 * profile.json. Its name is checked as `init --name` checks it (display-name.ts): a file edited by hand or by
 * another program could hold a name with escape sequences or bidi controls, which `id` would print and the daemon
 * would send to everyone it asks to be friends. Such a name is ignored (the profile reads as unnamed), and
 * onIgnoredName hears why, so the caller can warn: the name is only a label, not worth refusing to start over.
 */
export async function readProfile(
  dataDir: string,
  onIgnoredName?: (problem: string) => void,
): Promise<Profile> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(await readFile(join(dataDir, PROFILE_FILE), 'utf8'));
  } catch {
    // No profile (init without --name) or an unreadable one: the name is only a label.
    return {};
  }
  const name = (parsed as Record<string, unknown> | null)?.['name'];
  if (typeof name !== 'string') return {};
  const problem = displayNameProblem(name);
  if (problem === undefined) return { name };
  onIgnoredName?.(`${problem}: ${JSON.stringify(name)}`);
  return {};
}

export async function writeProfile(dataDir: string, profile: Profile): Promise<void> {
  await writePrivateFile(join(dataDir, PROFILE_FILE), `${JSON.stringify(profile)}\n`);
}

export async function writeApiFile(dataDir: string, api: ApiFile): Promise<void> {
  await writePrivateFile(join(dataDir, API_FILE), `${JSON.stringify(api)}\n`);
}

/** Removes api.json if it is still ours (a newer daemon may have replaced it). */
export async function removeApiFile(dataDir: string, token: string): Promise<void> {
  const current = await readApiFile(dataDir).catch(() => undefined);
  if (current !== undefined && current.token !== token) return;
  await unlink(join(dataDir, API_FILE)).catch(() => undefined);
}

/** removeApiFile for the last moments of a crashing process (no awaiting there). */
export function removeApiFileSync(dataDir: string, token: string): void {
  try {
    const current = JSON.parse(readFileSync(join(dataDir, API_FILE), 'utf8')) as { token?: unknown };
    if (current.token === token) unlinkSync(join(dataDir, API_FILE));
  } catch {
    // Already gone or unreadable: nothing to clean.
  }
}

/** The daemon's api.json, or undefined when there is none (no daemon has run, or it exited cleanly). */
export async function readApiFile(dataDir: string): Promise<ApiFile | undefined> {
  let text: string;
  try {
    text = await readFile(join(dataDir, API_FILE), 'utf8');
  } catch (cause) {
    if ((cause as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new DhtchatError(ChatAppErrorCode.badApiFile, `cannot read ${join(dataDir, API_FILE)}`, { cause });
  }
  try {
    const value = JSON.parse(text) as Record<string, unknown>;
    const { port, token, pid } = value;
    if (typeof port === 'number' && typeof token === 'string' && typeof pid === 'number') {
      return { port, token, pid };
    }
  } catch {
    // Reported below.
  }
  // A torn or foreign file: no daemon can be reached through it.
  return undefined;
}

/** Written to a temporary file 0600 first, so readers never see a half-written token. */
async function writePrivateFile(path: string, text: string): Promise<void> {
  const temp = `${path}.${process.pid}.tmp`;
  try {
    const handle = await open(temp, constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC, 0o600);
    try {
      await handle.writeFile(text);
    } finally {
      await handle.close();
    }
    await rename(temp, path);
  } catch (cause) {
    await unlink(temp).catch(() => undefined);
    throw new DhtchatError('APP_DATA_DIR', `cannot write ${path}`, { cause });
  }
}
