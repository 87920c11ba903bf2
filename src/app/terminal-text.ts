/**
 * Text that came from someone else (a friend's message, a requester's name or note, a name read back from the data
 * dir) made safe to print on a terminal. A terminal obeys what it is sent: ESC starts a control sequence (clear the
 * screen, set the window title, move the cursor, and on some terminals write files or answer back), a CR or LF lets
 * a line pretend to be a new line from someone else, and a bidi override reorders what follows so that
 * "txt.exe" can read as "exe.txt". Every such character is shown visibly escaped (`\x1b`, `\n`, `\u202e`), so it
 * cannot act and the reader still sees that it was there. Everything else — letters of every script, right-to-left
 * text, emoji with their joiners and variation selectors — is left exactly as it was.
 *
 * Escaped: C0 controls and DEL (Cc, including TAB, CR and LF: a line of ours stays one line), C1 controls
 * (U+0080–U+009F: 8-bit CSI and OSC on terminals that honour them), the line and paragraph separators
 * (U+2028/U+2029), the bidi embeddings, overrides, isolates and marks (U+202A–U+202E, U+2066–U+2069, U+200E,
 * U+200F, U+061C), the interlinear annotation marks (U+FFF9–U+FFFB, which hide text in some renderers), and lone
 * surrogates (not text at all). Kept: U+200C/U+200D (the joiners that emoji sequences and several scripts need).
 *
 * `--json` output never goes through here: JSON.stringify already escapes C0 controls, and a program reading JSON
 * wants the exact text.
 */

/** The characters that must not reach a terminal as themselves (see above). */
const UNSAFE = /[\p{Cc}\u2028\u2029\u202a-\u202e\u2066-\u2069\u200e\u200f\u061c\ufff9-\ufffb]|\p{Cs}/gu;

const HAS_UNSAFE = new RegExp(UNSAFE.source, 'u');

const SHORT_ESCAPES: Readonly<Record<string, string>> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' };

/** `text` with every unsafe character replaced by a visible escape (`\x1b`, `\n`, `\u202e`). */
export function terminalSafe(text: string): string {
  return text.replace(UNSAFE, escapeOne);
}

/** True when terminalSafe would change nothing. */
export function isTerminalSafe(text: string): boolean {
  return !HAS_UNSAFE.test(text);
}

function escapeOne(char: string): string {
  const short = SHORT_ESCAPES[char];
  if (short !== undefined) return short;
  const code = char.codePointAt(0) ?? 0;
  if (code <= 0xff) return `\\x${code.toString(16).padStart(2, '0')}`;
  return `\\u${code.toString(16).padStart(4, '0')}`;
}
