/**
 * `--open`: hands a URL to the desktop's opener (xdg-open on Linux and BSDs, open on macOS, start on Windows),
 * detached, so the browser outlives nothing of ours and we never wait for it. A missing opener (a server without
 * a desktop) is reported, not fatal: the URL is printed anyway.
 */
import { spawn } from 'node:child_process';

export function openBrowser(url: string, onFailure: (why: string) => void): void {
  const [command, args] =
    process.platform === 'darwin'
      ? ['open', [url]]
      : process.platform === 'win32'
        ? ['cmd', ['/c', 'start', '""', url]]
        : ['xdg-open', [url]];
  try {
    const child = spawn(command, args, { detached: true, stdio: 'ignore' });
    child.on('error', (error) => onFailure(`${command}: ${error.message}`));
    child.unref();
  } catch (error) {
    onFailure(`${command}: ${error instanceof Error ? error.message : String(error)}`);
  }
}
