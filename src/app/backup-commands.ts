/**
 * `dhtchat export <file> [--json]` and `dhtchat import <file> [--passphrase] [--json]`: moving an identity, its
 * friends and its history to another data dir or machine as one passphrase-encrypted file (docs/CLI.md,
 * "Backup"). The flows are backup-export.ts and backup-import.ts; this file parses and prints.
 */
import type { Command } from 'commander';
import { exportBackup } from './backup-export.ts';
import { importBackup } from './backup-import.ts';
import { dataDirOf } from './chat-data-dir.ts';
import { printJson } from './chat-output.ts';
import { terminalSafe } from './terminal-text.ts';

export function registerBackupCommands(program: Command): void {
  program
    .command('export')
    .description('write your identity, friends and messages to one passphrase-encrypted backup file')
    .argument('<file>', 'the backup file to create (never overwritten)')
    .option('--json', 'print {"file","bytes","rows":{table: count},"isFromDaemon"}')
    .action(async (file: string, flags: { json?: boolean }, command: Command) => {
      const summary = await exportBackup(dataDirOf(command), file);
      if (flags.json) {
        printJson(summary);
        return;
      }
      process.stdout.write(
        `backup written to ${file}: ${describeRows(summary.rows)}` +
          `${summary.isFromDaemon ? ' (read from the running daemon)' : ''}\n`,
      );
    });

  program
    .command('import')
    .description('restore a backup file into an empty data dir (then start the daemon there)')
    .argument('<file>', 'a file made by `dhtchat export`')
    .option('--passphrase', 'protect the restored key with a new passphrase (asked, or $DHTCHAT_PASSPHRASE)')
    .option('--json', 'print {"code","name","isProtected","rows":{table: count}}')
    .action(async (file: string, flags: { passphrase?: boolean; json?: boolean }, command: Command) => {
      const dataDir = dataDirOf(command);
      const summary = await importBackup(dataDir, file, { isPassphraseAsked: flags.passphrase === true });
      if (flags.json) {
        printJson({ ...summary, name: summary.name ?? null });
        return;
      }
      const name = summary.name === undefined ? '' : ` (${terminalSafe(summary.name)})`;
      process.stdout.write(
        `restored ${summary.code}${name} into ${dataDir}: ${describeRows(summary.rows)}\n` +
          `${summary.isProtected ? 'the key is protected by a passphrase\n' : ''}` +
          'run the daemon here from now on, not on the old data dir: two daemons with one identity compete\n',
      );
    });
}

function describeRows(rows: Readonly<Record<string, number>>): string {
  const count = (table: string): number => rows[table] ?? 0;
  return `${count('contacts')} contacts, ${count('messages')} messages, ${count('friend_requests')} requests`;
}
