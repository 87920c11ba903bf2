/**
 * What a name may be: a contact's name (ours to choose: `add --name`, `rename`, or a requester's suggestion we
 * adopt at accept), our own profile name (sent to friends), and a friend's profile name (theirs, shown next to
 * ours for them). Names are printed on terminals and pick contacts on the command line, so they are short,
 * printable, and never read like a friend code:
 *
 * - 1 to 64 code points, no leading or trailing white space;
 * - no control characters (C0, C1, DEL), surrogates, unassigned or private-use code points, line or paragraph
 *   separators, bidi controls (embeddings, overrides, isolates, marks: they reorder what a terminal shows), or
 *   interlinear annotation marks (they hide text);
 * - nothing that folds and reads like "dhtchat:" at the start (a friend code's prefix, in any case or
 *   look-alike letters: such a name could pass for someone's code).
 *
 * Default-ignorable characters (zero-width space, variation selectors) are allowed: emoji need some, and the
 * name keys (name-key.ts) drop them, so "Al\u200bice" still clashes with "Alice".
 */
import { DhtchatError } from '../runtime/index.ts';
import { nameKeys } from './name-key.ts';
import { ChatStoreErrorCode } from './store/store-errors.ts';

export const MAX_NAME_CHARS = 64;

export const NameErrorCode = {
  /** A name breaks the rules above. */
  invalid: 'CHAT_NAME_INVALID',
  /** Another contact's name reads the same (case, look-alikes): CHAT_CONTACT_NAME_TAKEN, as before name keys. */
  taken: ChatStoreErrorCode.nameTaken,
  /** A name given on the command line reads like several contacts (or requesters). */
  ambiguous: 'CHAT_NAME_AMBIGUOUS',
} as const;

const FORBIDDEN = /[\p{Cc}\p{Cs}\p{Cn}\p{Co}\p{Bidi_Control}\u2028\u2029\ufff9-\ufffb]|^\s|\s$/u;

let codePrefixKey: string | undefined;

/** Why `name` cannot be a name (one short phrase), or undefined when it can. */
export function nameProblem(name: string): string | undefined {
  const chars = [...name].length;
  if (chars === 0 || chars > MAX_NAME_CHARS) return `a name has 1-${MAX_NAME_CHARS} characters`;
  if (FORBIDDEN.test(name)) {
    return 'a name may not contain control, bidi or unassigned characters, nor start or end with a space';
  }
  codePrefixKey ??= nameKeys('dhtchat:').folded;
  if (nameKeys(name).folded.startsWith(codePrefixKey)) return 'a name may not look like a friend code';
  return undefined;
}

export function isValidName(name: string): boolean {
  return nameProblem(name) === undefined;
}

/** Throws CHAT_NAME_INVALID, saying why, when `name` breaks the rules. */
export function checkName(name: string, what = 'a name'): void {
  const problem = nameProblem(name);
  if (problem !== undefined) {
    throw new DhtchatError(NameErrorCode.invalid, `${what} is not usable: ${problem}`);
  }
}
