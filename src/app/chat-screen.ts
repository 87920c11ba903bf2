/**
 * Where `dhtchat chat <who>` reads lines and shows the conversation — two kinds of screen behind one interface:
 *
 * - terminal (stdin and stdout are TTYs): readline owns the bottom line, which is the prompt — the friend's
 *   status ("[bob · online · typing…] > ") followed by what the user is typing. A line of conversation is
 *   printed above it by clearing the prompt line, writing the line, and letting readline redraw the prompt with
 *   the half-typed text intact. The line the user just sent is wiped (the chat prints it back formatted), and
 *   every keystroke that changes the input is reported (typing indicators). Ctrl-C and Ctrl-D end the chat.
 * - lines (a pipe or a file): each input line is a message, each event a printed line; the end of input ends it.
 */
import { clearScreenDown, createInterface, cursorTo, type Interface, moveCursor } from 'node:readline';

export interface ChatScreenHandlers {
  /** A line the user entered (as typed). */
  onLine(text: string): void;
  /** The text being typed changed (terminal only); `text` is the whole current input. */
  onInput(text: string): void;
  /** Ctrl-C, Ctrl-D or the end of input. */
  onEnd(): void;
}

export interface ChatScreen {
  /** Prints a line of conversation (already made terminal-safe). */
  print(line: string): void;
  /** The status shown in the prompt (terminal); ignored on a line screen. */
  setStatus(prompt: string): void;
  readonly isTerminal: boolean;
  close(): void;
}

export function openChatScreen(handlers: ChatScreenHandlers): ChatScreen {
  const isTerminal = process.stdin.isTTY === true && process.stdout.isTTY === true;
  return isTerminal ? terminalScreen(handlers) : lineScreen(handlers);
}

function terminalScreen(handlers: ChatScreenHandlers): ChatScreen {
  const output = process.stdout;
  const rl = createInterface({ input: process.stdin, output, terminal: true, historySize: 100 });
  let prompt = '> ';
  let lastInput = '';
  let isClosed = false;
  rl.setPrompt(prompt);
  rl.on('line', (text) => {
    // readline left "prompt + text" on screen; the chat prints the message back in its own format.
    const columns = output.columns > 0 ? output.columns : 80;
    const rows = Math.max(1, Math.ceil((prompt.length + text.length) / columns));
    moveCursor(output, 0, -rows);
    cursorTo(output, 0);
    clearScreenDown(output);
    lastInput = '';
    handlers.onLine(text);
    if (!isClosed) rl.prompt(true);
  });
  // Keypresses reach readline first; the input line is read once readline has applied them.
  const onKeypress = (): void => {
    setImmediate(() => {
      if (isClosed || rl.line === lastInput) return;
      lastInput = rl.line;
      handlers.onInput(rl.line);
    });
  };
  process.stdin.on('keypress', onKeypress);
  rl.on('SIGINT', () => rl.close());
  rl.on('close', () => {
    if (isClosed) return;
    isClosed = true;
    process.stdin.off('keypress', onKeypress);
    output.write('\n');
    handlers.onEnd();
  });
  rl.prompt();
  return {
    isTerminal: true,
    print(line) {
      if (isClosed) {
        output.write(`${line}\n`);
        return;
      }
      cursorTo(output, 0);
      clearScreenDown(output);
      output.write(`${line}\n`);
      rl.prompt(true);
    },
    setStatus(next) {
      prompt = next;
      rl.setPrompt(next);
      if (!isClosed) rl.prompt(true);
    },
    close() {
      isClosed = true;
      process.stdin.off('keypress', onKeypress);
      closeReadline(rl);
    },
  };
}

function lineScreen(handlers: ChatScreenHandlers): ChatScreen {
  const rl = createInterface({ input: process.stdin, terminal: false });
  rl.on('line', (text) => handlers.onLine(text));
  rl.on('close', () => handlers.onEnd());
  return {
    isTerminal: false,
    print: (line) => process.stdout.write(`${line}\n`),
    setStatus: () => {},
    close: () => closeReadline(rl),
  };
}

function closeReadline(rl: Interface): void {
  rl.removeAllListeners('close');
  rl.close();
  // Raw mode and a paused-but-referenced stdin would keep the process alive after the chat ended.
  process.stdin.pause();
}
