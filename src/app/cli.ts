/**
 * The `dhtchat` program: commander setup, exit codes and one-line errors. Each command group lives in its own
 * file and is registered below with one line.
 *
 * Exit codes: 0 success · 1 failure (network, not found, I/O) · 2 usage error (bad argument, missing option,
 * input that cannot be used: USAGE_ERROR_CODES in exit-codes.ts, also for errors the daemon returns).
 * Every error is one line on stderr ("error: ..."), escaped for the terminal (it may quote a stranger's name);
 * results go to stdout (one JSON object with --json).
 */
import { Command, CommanderError } from 'commander';
import { registerBootstrapCommand } from './bootstrap-command.ts';
import { registerChatCommands } from './chat-commands.ts';
import { registerDhtCommands } from './dht-commands.ts';
import { withDefaultCommand } from './default-command.ts';
import { EXIT_CODE, exitCodeOf, oneLine } from './exit-codes.ts';
import { registerRelayCommand } from './relay-command.ts';
import { terminalSafe } from './terminal-text.ts';

export function buildProgram(): Command {
  const program = new Command('dhtchat')
    .description('Chat with no server: friends find each other through the BitTorrent Mainline DHT')
    .version('0.1.0')
    .exitOverride()
    .configureOutput({
      // Commander adds "(Did you mean ...?)" on a second line; errors stay one line.
      outputError: (text, write) => write(`${terminalSafe(oneLine(text))}\n`),
    });

  // Command groups: one line each.
  registerDhtCommands(program);
  registerBootstrapCommand(program);
  registerChatCommands(program);
  registerRelayCommand(program);

  return program;
}

export async function runCli(argv: readonly string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(withDefaultCommand(argv), { from: 'user' });
    return EXIT_CODE.ok;
  } catch (error) {
    if (error instanceof CommanderError) {
      // Commander has already printed its message; help and --version exit 0.
      return error.exitCode === 0 ? EXIT_CODE.ok : EXIT_CODE.usage;
    }
    const message = error instanceof Error ? error.message : String(error);
    process.stderr.write(`error: ${terminalSafe(oneLine(message))}\n`);
    return exitCodeOf(error);
  }
}

// A reader that stopped early (`dhtchat id | head -1`) closes the pipe: that is not a failure of ours.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0);
});
const code = await runCli(process.argv.slice(2));
process.exitCode = code;
// Leftover handles (a DNS query, a socket close) must not keep a finished command alive.
setTimeout(() => process.exit(code), 2_000).unref();
