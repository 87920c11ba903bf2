/**
 * The chat store's error codes (each documented in docs/ERRORS.md, "## chat store") and the one place where a
 * SQLite failure becomes a DhtchatError. Messages are one line: the CLI prints them as they are.
 */
import { DhtchatError } from '../../runtime/index.ts';
import { isSqliteError } from './sqlite.ts';

export const ChatStoreErrorCode = {
  locked: 'CHAT_STORE_LOCKED',
  corrupt: 'CHAT_STORE_CORRUPT',
  open: 'CHAT_STORE_OPEN',
  tooNew: 'CHAT_STORE_TOO_NEW',
  identityMismatch: 'CHAT_STORE_IDENTITY_MISMATCH',
  closed: 'CHAT_STORE_CLOSED',
  io: 'CHAT_STORE_IO',
  badArgument: 'CHAT_STORE_BAD_ARGUMENT',
  messageTooLarge: 'CHAT_MESSAGE_TOO_LARGE',
  unknownFriend: 'CHAT_UNKNOWN_FRIEND',
  unknownMessage: 'CHAT_UNKNOWN_MESSAGE',
  unknownRequest: 'CHAT_UNKNOWN_REQUEST',
  nameTaken: 'CHAT_CONTACT_NAME_TAKEN',
} as const;
export type ChatStoreErrorCode = (typeof ChatStoreErrorCode)[keyof typeof ChatStoreErrorCode];

export function lockedError(path: string, cause?: unknown): DhtchatError {
  return new DhtchatError(
    ChatStoreErrorCode.locked,
    `chat database ${path} is in use by another process (is a dhtchat daemon already running on this data dir?)`,
    { cause },
  );
}

export function corruptError(path: string, detail: string, cause?: unknown): DhtchatError {
  return new DhtchatError(
    ChatStoreErrorCode.corrupt,
    `chat database ${path} is corrupt (${detail}); it was left untouched: move it aside or restore a backup`,
    { cause },
  );
}

/** Maps a driver error thrown while opening or using the database at `path` to a stable code. */
export function fromSqliteError(err: unknown, path: string, doing: string): DhtchatError {
  if (err instanceof DhtchatError) return err;
  if (!isSqliteError(err)) {
    const code = doing === 'opening' ? ChatStoreErrorCode.open : ChatStoreErrorCode.io;
    const detail = err instanceof Error ? `: ${err.message}` : '';
    return new DhtchatError(code, `chat database ${path}: ${doing} failed${detail}`, { cause: err });
  }
  const code = err.code;
  if (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED') || code === 'SQLITE_IOERR_LOCK') {
    return lockedError(path, err);
  }
  if (code.startsWith('SQLITE_CORRUPT') || code === 'SQLITE_NOTADB') {
    return corruptError(path, err.message, err);
  }
  if (code === 'SQLITE_CONSTRAINT_FOREIGNKEY') {
    return new DhtchatError(ChatStoreErrorCode.unknownFriend, `${doing}: no such contact`, { cause: err });
  }
  if (
    code.startsWith('SQLITE_CANTOPEN') ||
    code.startsWith('SQLITE_PERM') ||
    code.startsWith('SQLITE_READONLY')
  ) {
    return new DhtchatError(ChatStoreErrorCode.open, `cannot open chat database ${path}: ${err.message}`, {
      cause: err,
    });
  }
  return new DhtchatError(ChatStoreErrorCode.io, `chat database ${path}: ${doing} failed: ${err.message}`, {
    cause: err,
  });
}

export function badArgument(message: string): DhtchatError {
  return new DhtchatError(ChatStoreErrorCode.badArgument, message);
}
