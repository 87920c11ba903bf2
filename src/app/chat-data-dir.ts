/**
 * The chat's files in the data dir: identity.dat (src/chat/identity-file.ts), profile.json (the name given at
 * init), api.json (the running daemon's port and token). The data dir is the program-level `--data-dir` option
 * (before the subcommand), default $XDG_DATA_HOME/dhtchat.
 *
 * Passphrase: DHTCHAT_PASSPHRASE, when set and non-empty, protects a new identity (init) and unlocks one (daemon).
 * An environment variable, not a prompt, so daemons and scripts can start unattended; it is visible to the same
 * user's processes, which can read the data dir anyway.
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

export const PROFILE_FILE = 'profile.json';
export const PASSPHRASE_ENV = 'DHTCHAT_PASSPHRASE';

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

/** The public key, readable without the passphrase. */
export async function readPublicKey(dataDir: string): Promise<{ publicKey: Buffer; isProtected: boolean }> {
  const { readIdentityFile, inspectIdentityFile } = await loadChat();
  const file = await readIdentityFile(await identityPath(dataDir));
  return inspectIdentityFile(file.bytes);
}

/** The full identity (unlocked with DHTCHAT_PASSPHRASE when protected); isPrivate false means a loose mode. */
export async function loadIdentity(dataDir: string): Promise<{ identity: Identity; isPrivate: boolean }> {
  const { readIdentityFile, decodeIdentityFile } = await loadChat();
  const file = await readIdentityFile(await identityPath(dataDir));
  const passphrase = passphraseFromEnv();
  try {
    return { identity: await decodeIdentityFile(file.bytes, passphrase), isPrivate: file.isPrivate };
  } catch (error) {
    if (error instanceof DhtchatError && error.code === 'CHAT_IDENTITY_PASSPHRASE_REQUIRED') {
      throw new DhtchatError(error.code, `${error.message}: set ${PASSPHRASE_ENV}`, { cause: error });
    }
    throw error;
  }
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
