/**
 * File transfers (docs/CLI.md, "## Files"): send-file, files, accept-file, cancel — clients of the daemon's
 * local API. Paths are resolved here, against this shell's directory, before the daemon sees them (the daemon
 * runs elsewhere and takes only absolute paths).
 *
 * --wait follows the transfer until it ends: the daemon's events, and its list polled every second (an event
 * that came before we listened is not missed that way). On a terminal, a progress bar on stderr, redrawn in
 * place; stdout gets the final line (or the final view with --json). Exit 0 when complete; 1 when it ended
 * otherwise (canceled, declined, failed: one `error:` line saying so); Ctrl-C stops waiting, not the transfer.
 */
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { DhtchatError } from '../runtime/index.ts';
import { callDaemon, followDaemonEvents } from './chat-api-client.ts';
import type { ContactView, FileTransferView, GroupView } from './chat-api-types.ts';
import { dataDirOf } from './chat-data-dir.ts';
import { type NameOf, printJson, printLines } from './chat-output.ts';
import { formatTransfer, type GroupNameOf, progressBar } from './file-output.ts';
import { resolveGroupTarget } from './group-target.ts';
import { terminalSafe } from './terminal-text.ts';

interface Flags {
  json?: boolean;
  wait?: boolean;
  to?: string;
}

const FINAL_STATES = new Set(['complete', 'canceled', 'declined', 'failed']);
const POLL_MS = 1000;

export function registerFileCommands(program: Command): void {
  program
    .command('send-file')
    .description(
      'offer a file to a friend or a group (they accept it with accept-file); resumes after restarts',
    )
    .argument('<name|code|group>', 'the friend, or a group (its id, or a name no contact has)')
    .argument('<path>', 'the file')
    .option('--wait', 'follow the transfer until it ends (a progress bar on a terminal)')
    .option('--json', 'print the transfer {"id","with","direction","name","size","state",...}')
    .action(async (to: string, path: string, flags: Flags, cmd: Command) => {
      const dataDir = dataDirOf(cmd);
      const group = await resolveGroupTarget(dataDir, to);
      const body = group === undefined ? { to, path: resolve(path) } : { group, path: resolve(path) };
      const sent = (await callDaemon(dataDir, 'POST', '/v1/files', body)) as FileTransferView;
      await report(dataDir, sent, flags);
    });

  program
    .command('files')
    .description('list file transfers, newest first')
    .option('--json', 'print [{"id","with","direction","name","size","state","bytesDone","bytesPerSec",...}]')
    .action(async (flags: Flags, cmd: Command) => {
      const dataDir = dataDirOf(cmd);
      const list = (await callDaemon(dataDir, 'GET', '/v1/files')) as FileTransferView[];
      if (flags.json) {
        printJson(list);
        return;
      }
      const nameOf = await namesOf(dataDir);
      const groupNameOf = list.some((t) => t.group !== null) ? await groupNamesOf(dataDir) : undefined;
      printLines(
        list.map((t) => formatTransfer(t, nameOf, groupNameOf)),
        'no file transfers',
      );
    });

  program
    .command('accept-file')
    .description('accept an offered file (into the downloads dir, or --to)')
    .argument('<id>', 'the transfer id, or a unique prefix of it (4+ hex digits)')
    .option('--to <path>', 'an existing directory, or the path of a new file (never an existing one)')
    .option('--wait', 'follow the transfer until it ends (a progress bar on a terminal)')
    .option('--json', 'print the transfer')
    .action(async (id: string, flags: Flags, cmd: Command) => {
      const dataDir = dataDirOf(cmd);
      const body = { id, ...(flags.to === undefined ? {} : { to: resolve(flags.to) }) };
      const accepted = (await callDaemon(dataDir, 'POST', '/v1/files/accept', body)) as FileTransferView;
      await report(dataDir, accepted, flags);
    });

  program
    .command('cancel')
    .description('cancel a file transfer either way (an offer you have not accepted is declined)')
    .argument('<id>', 'the transfer id, or a unique prefix of it (4+ hex digits)')
    .option('--json', 'print the transfer')
    .action(async (id: string, flags: Flags, cmd: Command) => {
      const dataDir = dataDirOf(cmd);
      const canceled = (await callDaemon(dataDir, 'POST', '/v1/files/cancel', { id })) as FileTransferView;
      await report(dataDir, canceled, { ...(flags.json === undefined ? {} : { json: flags.json }) });
    });
}

async function report(dataDir: string, transfer: FileTransferView, flags: Flags): Promise<void> {
  const final = flags.wait === true ? await follow(dataDir, transfer) : transfer;
  if (flags.json) printJson(final);
  else process.stdout.write(`${formatTransfer(final, await namesOf(dataDir))}\n`);
  if (flags.wait === true && FINAL_STATES.has(final.state) && final.state !== 'complete') {
    const why = final.reason === null ? '' : ` (${terminalSafe(final.reason)})`;
    throw new DhtchatError(
      'FILE_NOT_COMPLETE',
      `the transfer ${final.id.slice(0, 8)} ended ${final.state}${why}`,
    );
  }
}

/** Follows one transfer until a final state (or Ctrl-C: then the last view seen). */
async function follow(dataDir: string, start: FileTransferView): Promise<FileTransferView> {
  let latest = start;
  const isBar = process.stderr.isTTY === true;
  const draw = (): void => {
    if (isBar) process.stderr.write(`\r\x1b[2K${progressBar(latest, process.stderr.columns ?? 80)}`);
  };
  const stop = new AbortController();
  const update = (view: FileTransferView): void => {
    if (view.id !== start.id) return;
    latest = view;
    draw();
    if (FINAL_STATES.has(view.state)) stop.abort();
  };
  const onSignal = (): void => stop.abort();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  draw();
  const poll = setInterval(() => {
    callDaemon(dataDir, 'GET', '/v1/files').then(
      (list) => {
        const found = (list as FileTransferView[]).find((t) => t.id === start.id);
        if (found !== undefined) update(found);
      },
      () => stop.abort(),
    );
  }, POLL_MS);
  try {
    if (!FINAL_STATES.has(start.state)) {
      await followDaemonEvents(
        dataDir,
        (event) => {
          if (event['event'] === 'file') update(event as unknown as FileTransferView);
        },
        stop.signal,
      );
    }
  } finally {
    clearInterval(poll);
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    if (isBar) process.stderr.write('\n');
  }
  return latest;
}

async function namesOf(dataDir: string): Promise<NameOf> {
  const contacts = (await callDaemon(dataDir, 'GET', '/v1/contacts')) as ContactView[];
  const names = new Map(contacts.filter((c) => c.name !== c.code).map((c) => [c.code, c.name]));
  return (code) => names.get(code);
}

/** Group names by id, for a group's transfers (none from a daemon without groups). */
async function groupNamesOf(dataDir: string): Promise<GroupNameOf> {
  const groups = (await callDaemon(dataDir, 'GET', '/v1/groups').catch(() => [])) as GroupView[];
  const names = new Map(groups.map((g) => [g.id, g.name]));
  return (id) => names.get(id);
}
