/**
 * `dhtchat [--data-dir D] web [--open] [--json]`: a fresh one-time login link to the running daemon's web client
 * (the one printed at start works once). Asks the daemon through the bearer-token API (POST /v1/login-link);
 * --open hands it to the browser as well.
 */
import type { Command } from 'commander';
import { callDaemon } from './chat-api-client.ts';
import { dataDirOf } from './chat-data-dir.ts';
import { openBrowser } from './web-client/open-browser.ts';
import { loginLine } from './web-client/web-announce.ts';

export function registerWebCommand(program: Command): void {
  program
    .command('web')
    .description("print a one-time login link to the running daemon's web client")
    .option('--open', 'open it in the browser too')
    .option('--json', '{"url"}')
    .action(async (flags: { open?: boolean; json?: boolean }, cmd: Command) => {
      const dataDir = dataDirOf(cmd);
      const { url } = (await callDaemon(dataDir, 'POST', '/v1/login-link', {})) as { url: string };
      process.stdout.write(
        flags.json === true ? `${JSON.stringify({ url })}\n` : `${loginLine(url, dataDir)}\n`,
      );
      if (flags.open === true) {
        openBrowser(url, (why) => process.stderr.write(`warning: cannot open the browser (${why})\n`));
      }
    });
}
