/**
 * Exit codes of every dhtchat command (documented in docs/CLI.md, "Exit codes and errors"), and the one table
 * that says which error codes are usage errors.
 *
 * The rule: 2 when what was typed cannot be done as typed and the user must type something else — a malformed
 * value, a missing option, a friend code with a typo, your own code, an empty or over-long message, a name that
 * breaks the rules, is taken, or could mean several contacts, adding someone who is already a friend; 1 when the
 * command was right and failed — no daemon, the network, nothing found, I/O — so it may succeed later.
 */
import { DhtchatError } from '../runtime/index.ts';

export const EXIT_CODE = {
  ok: 0,
  /** The command ran and failed: network, nothing found, file I/O. */
  failure: 1,
  /** The command line was wrong: bad value, missing or conflicting option, input that cannot be used. */
  usage: 2,
} as const;

/**
 * DhtchatError codes that exit 2, wherever they are thrown: in this process or by the daemon (the API answers
 * {"error":{"code"}} and the client throws a DhtchatError with that code).
 */
export const USAGE_ERROR_CODES: ReadonlySet<string> = new Set([
  'CHAT_FRIEND_CODE_PREFIX',
  'CHAT_FRIEND_CODE_LENGTH',
  'CHAT_FRIEND_CODE_CHARACTER',
  'CHAT_FRIEND_CODE_CHECKSUM',
  'CHAT_ADD_SELF',
  'CHAT_ALREADY_FRIEND',
  'CHAT_MESSAGE_TOO_LARGE',
  'CHAT_MESSAGE_EMPTY',
  'CHAT_NAME_INVALID',
  'CHAT_CONTACT_NAME_TAKEN',
  'CHAT_NAME_AMBIGUOUS',
  'CHAT_BAD_QUERY',
  'CHAT_GROUP_BAD_MEMBER',
  'APP_BAD_INPUT',
  'FILE_NOT_A_FILE',
  'FILE_TOO_LARGE',
  'FILE_AMBIGUOUS_ID',
  'FILE_BAD_STATE',
  'FILE_TARGET',
]);

/** The exit code for an error a command threw (commander's own usage errors are handled before this). */
export function exitCodeOf(error: unknown): number {
  return error instanceof DhtchatError && USAGE_ERROR_CODES.has(error.code)
    ? EXIT_CODE.usage
    : EXIT_CODE.failure;
}

/** Errors are printed on one line: newlines folded into spaces, trailing whitespace dropped. */
export function oneLine(text: string): string {
  return text.replace(/\s*\n\s*/g, ' ').trim();
}
