/**
 * A display name: what users call themselves (profile.json, sent to friends with a request) or a friend. It is
 * printed on terminals, ours and our friends', so it holds nothing terminalSafe would escape (no control
 * characters, no line breaks, no bidi controls), and no white space at either end (it is typed back as `<who>`).
 * The same rule checks a name typed on the command line and a name read back from the data dir.
 */
import { isTerminalSafe } from './terminal-text.ts';

export const MAX_DISPLAY_NAME_CHARS = 64;

/** What is wrong with name as a display name, in a few words; undefined when it is one. */
export function displayNameProblem(name: string): string | undefined {
  if (name.trim() === '') return 'it is empty';
  if (name.trim() !== name) return 'it starts or ends with white space';
  if ([...name].length > MAX_DISPLAY_NAME_CHARS)
    return `it is longer than ${MAX_DISPLAY_NAME_CHARS} characters`;
  if (!isTerminalSafe(name)) return 'it holds control, line-break or bidi characters';
  return undefined;
}
