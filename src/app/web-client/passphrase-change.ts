/**
 * Setting, changing or removing the identity's passphrase from the web client's settings, while the daemon runs:
 * the daemon holds the unlocked identity, so it writes identity.dat again (atomically, 0600) sealed under the new
 * passphrase, or in the clear for an empty one. Changing or removing an existing passphrase needs the current
 * one (an open browser tab alone must not be enough to strip the protection from the file at rest).
 */
import type { Identity } from '../../chat/index.ts';
import { DhtchatError, type Random } from '../../runtime/index.ts';
import { identityPath, loadChat } from '../chat-data-dir.ts';

export interface PassphraseState {
  readonly isProtected: boolean;
}

export async function passphraseState(dataDir: string): Promise<PassphraseState> {
  const { readIdentityFile, inspectIdentityFile } = await loadChat();
  const file = await readIdentityFile(await identityPath(dataDir));
  return { isProtected: inspectIdentityFile(file.bytes).isProtected };
}

export async function changePassphrase(opts: {
  dataDir: string;
  identity: Identity;
  random: Random;
  current: string | undefined;
  /** The new passphrase; empty removes the protection. */
  next: string;
}): Promise<PassphraseState> {
  const chat = await loadChat();
  const path = await identityPath(opts.dataDir);
  await checkCurrentPassphrase(opts.dataDir, opts.identity, opts.current);
  const isProtected = opts.next.length > 0;
  const bytes = await chat.encodeIdentityFile(opts.identity, {
    passphrase: isProtected ? opts.next : undefined,
    random: opts.random,
  });
  await chat.writeIdentityFile(path, bytes, { isReplace: true });
  return { isProtected };
}

/**
 * When identity.dat is protected, `current` must open it and hold the running daemon's key (throws
 * CHAT_IDENTITY_PASSPHRASE_REQUIRED, CHAT_IDENTITY_WRONG_PASSPHRASE or CHAT_IDENTITY_CORRUPT); says whether it is.
 */
export async function checkCurrentPassphrase(
  dataDir: string,
  identity: Identity,
  current: string | undefined,
): Promise<{ wasProtected: boolean }> {
  const chat = await loadChat();
  const file = await chat.readIdentityFile(await identityPath(dataDir));
  if (!chat.inspectIdentityFile(file.bytes).isProtected) return { wasProtected: false };
  if (current === undefined || current.length === 0) {
    throw new DhtchatError(
      'CHAT_IDENTITY_PASSPHRASE_REQUIRED',
      'the identity is protected: give its current passphrase',
    );
  }
  const unlocked = await chat.decodeIdentityFile(file.bytes, current);
  if (!unlocked.publicKey.equals(identity.publicKey)) {
    throw new DhtchatError('CHAT_IDENTITY_CORRUPT', 'identity.dat holds another key than the running daemon');
  }
  return { wasProtected: true };
}
