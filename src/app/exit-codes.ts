/** Exit codes of every dhtchat command (documented in docs/CLI.md). */
export const EXIT_CODE = {
  ok: 0,
  /** The command ran and failed: network, nothing found, file I/O. */
  failure: 1,
  /** The command line was wrong: bad value, missing or conflicting option. */
  usage: 2,
} as const;

/** Errors are printed on one line: newlines folded into spaces, trailing whitespace dropped. */
export function oneLine(text: string): string {
  return text.replace(/\s*\n\s*/g, ' ').trim();
}
