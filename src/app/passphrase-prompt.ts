/**
 * Asking for a passphrase on the terminal, without echo. Used when a command needs one (unlocking a protected
 * identity, `init --passphrase`, `export`, `import`) and no environment variable gives it.
 *
 * Only when stdin is a terminal: a script or a service has no one to ask, and a prompt there would hang; those
 * set the variable instead, and callers turn "no passphrase" into an error that names it. The question goes to
 * stderr, so stdout stays the command's result (`dhtchat init --passphrase --json > code.json` still prompts).
 * stdin is read in raw mode one key at a time: Enter ends, Backspace deletes, Ctrl-U clears, Ctrl-C and Ctrl-D
 * cancel, escape sequences (arrow keys) are ignored; nothing typed is ever written back.
 */
import { DhtchatError } from '../runtime/index.ts';

export const PassphrasePromptError = {
  mismatch: 'APP_PASSPHRASE_MISMATCH',
  cancelled: 'APP_PASSPHRASE_CANCELLED',
  unavailable: 'APP_PASSPHRASE_UNAVAILABLE',
} as const;

/** A passphrase longer than this is not typed by a person; stop collecting (scrypt would take it all). */
const MAX_PASSPHRASE_CHARS = 1024;

export interface PromptStreams {
  readonly input: NodeJS.ReadStream;
  readonly output: NodeJS.WritableStream;
}

const PROCESS_STREAMS: PromptStreams = { input: process.stdin, output: process.stderr };

/** True when there is a person at a terminal to ask. */
export function canPrompt(streams: PromptStreams = PROCESS_STREAMS): boolean {
  return streams.input.isTTY === true && typeof streams.input.setRawMode === 'function';
}

/**
 * Asks once (or twice with isNew, and they must match: APP_PASSPHRASE_MISMATCH). Throws
 * APP_PASSPHRASE_CANCELLED on Ctrl-C / Ctrl-D. Call only when canPrompt().
 */
export async function promptPassphrase(
  question: string,
  opts: { isNew?: boolean; streams?: PromptStreams } = {},
): Promise<string> {
  const streams = opts.streams ?? PROCESS_STREAMS;
  const first = await readHidden(`${question}: `, streams);
  if (opts.isNew !== true) return first;
  const second = await readHidden(`${question} (again): `, streams);
  if (first !== second) {
    throw new DhtchatError(PassphrasePromptError.mismatch, 'the two passphrases typed do not match');
  }
  return first;
}

function readHidden(question: string, { input, output }: PromptStreams): Promise<string> {
  // Echo goes off before the question shows: keys typed the moment it appears must not be echoed.
  const wasRaw = input.isRaw;
  input.setRawMode(true);
  output.write(question);
  input.resume();
  return new Promise<string>((resolve, reject) => {
    let typed = '';
    const finish = (error?: DhtchatError): void => {
      input.off('data', onData);
      input.setRawMode(wasRaw);
      input.pause();
      output.write('\n');
      if (error === undefined) resolve(typed);
      else reject(error);
    };
    const onData = (chunk: Buffer | string): void => {
      const text = chunk.toString();
      // An escape sequence (arrow, function key) arrives as one chunk starting with ESC: not part of a passphrase.
      if (text.startsWith('\u001b')) return;
      for (const char of text) {
        if (char === '\r' || char === '\n') {
          finish();
          return;
        }
        if (char === '\u0003' || char === '\u0004') {
          finish(new DhtchatError(PassphrasePromptError.cancelled, 'passphrase entry cancelled'));
          return;
        }
        if (char === '\u007f' || char === '\b') typed = [...typed].slice(0, -1).join('');
        else if (char === '\u0015') typed = '';
        else if (char >= ' ' && [...typed].length < MAX_PASSPHRASE_CHARS) typed += char;
      }
    };
    input.on('data', onData);
  });
}
