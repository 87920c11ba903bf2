/**
 * How a started daemon points its user at the web client (daemon-command.ts calls this right after `ready`):
 * on a terminal, one line with a one-time login link (a terminal is not a log file); in JSON mode, a `web` event
 * with the client's address but never a token (logs get kept and shared); with --open, a fresh link goes to the
 * browser.
 */
import type { Logger } from '../../runtime/index.ts';
import { defaultDataDir } from '../data-dir.ts';
import { openBrowser } from './open-browser.ts';

export interface AnnounceOptions {
  readonly loginUrl: () => string;
  readonly apiPort: number;
  readonly dataDir: string;
  readonly isTerminal: boolean;
  readonly shouldOpen: boolean;
  readonly write: (text: string) => void;
  readonly logger: Logger;
}

export function announceWebClient(opts: AnnounceOptions): void {
  if (opts.isTerminal) opts.write(`${loginLine(opts.loginUrl(), opts.dataDir)}\n`);
  else opts.logger.info({ event: 'web', url: `http://127.0.0.1:${opts.apiPort}/` });
  if (opts.shouldOpen) {
    openBrowser(opts.loginUrl(), (why) =>
      opts.logger.warn({ event: 'open_failed', error: why, hint: 'open the login link by hand' }),
    );
  }
}

/** The terminal line: the link, and how to get another (it works once). */
export function loginLine(url: string, dataDir: string): string {
  const dirOption = dataDir === defaultDataDir() ? '' : ` --data-dir ${shellWord(dataDir)}`;
  return `open the chat: ${url}  (works once; another: npx dhtchat${dirOption} web)`;
}

function shellWord(text: string): string {
  return /^[A-Za-z0-9_./~-]+$/.test(text) ? text : `'${text.replace(/'/g, `'\\''`)}'`;
}
