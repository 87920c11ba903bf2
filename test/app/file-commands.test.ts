/**
 * send-file, files, accept-file, cancel against a local API served by a fake ChatService (no network): paths
 * resolved by the CLI, the JSON contract, names from others escaped, --wait following events to the end (exit 0
 * complete, 1 otherwise), exit codes of the file errors; and --max-file-size parsing.
 */
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { ChatService, ContactView, FileTransferView } from '../../src/app/chat-api-types.ts';
import { startChatApiServer } from '../../src/app/chat-api-server.ts';
import { writeApiFile } from '../../src/app/chat-data-dir.ts';
import { parseSize } from '../../src/app/daemon-command.ts';
import { formatTransfer, progressBar } from '../../src/app/file-output.ts';
import { DhtchatError } from '../../src/runtime/index.ts';
import { type CliResult, REPO_ROOT, runCli } from '../helpers/cli-runner.ts';

const BOB = 'dhtchat:bobcode';
const bob: ContactView = { name: 'bob', code: BOB, presence: 'online', lastSeen: null, profileName: null };
const offer: FileTransferView = {
  id: '3fa2c1d0'.repeat(4),
  with: BOB,
  direction: 'incoming',
  name: 'evil\u202etxt.exe',
  size: 3 * 1024 * 1024,
  state: 'offered',
  bytesDone: 0,
  bytesPerSec: 0,
  reason: null,
  path: null,
  createdAt: 1_700_000_000_000,
  group: null,
  sources: [],
};

describe('file commands against a fake daemon', () => {
  const dir = mkdtempSync(join(tmpdir(), 'dhtchat-file-cli-'));
  const calls: string[] = [];
  const events = new EventEmitter();
  const transfers = new Map<string, FileTransferView>([[offer.id, offer]]);
  /** What the fake does after accept-file: a few progress events, then this end. */
  let ending: FileTransferView['state'] = 'complete';
  const service = {
    on: (name: string, listener: (...args: unknown[]) => void) => events.on(name, listener),
    off: (name: string, listener: (...args: unknown[]) => void) => events.off(name, listener),
    code: 'dhtchat:me',
    contacts: () => [bob],
    sendFile: async (to: string, path: string) => {
      calls.push(`send ${to} ${path}`);
      return {
        ...offer,
        id: 'aa'.repeat(16),
        direction: 'outgoing',
        name: 'a.txt',
        path,
      } as FileTransferView;
    },
    files: () => [...transfers.values()],
    acceptFile: async (id: string, opts?: { to?: string }) => {
      calls.push(`accept ${id} ${opts?.to ?? '-'}`);
      if (id === 'abcd') throw new DhtchatError('FILE_AMBIGUOUS_ID', 'several transfers start with abcd');
      const accepted = { ...offer, state: 'accepted' as const };
      transfers.set(offer.id, accepted);
      // The events come after the answer, as a real transfer's do.
      setTimeout(() => {
        for (const pct of [25, 50, 75]) {
          const progress = {
            ...offer,
            state: 'transferring' as const,
            bytesDone: (offer.size * pct) / 100,
            bytesPerSec: 1e6,
          };
          transfers.set(offer.id, progress);
          events.emit('file', progress);
        }
        const end = {
          ...offer,
          state: ending,
          bytesDone: ending === 'complete' ? offer.size : 0,
          reason: ending === 'complete' ? null : 'bad-pieces',
          path: ending === 'complete' ? '/dl/evil.exe' : null,
        };
        transfers.set(offer.id, end);
        events.emit('file', end);
      }, 700);
      return accepted;
    },
    cancelFile: async (id: string) => {
      throw new DhtchatError('FILE_UNKNOWN_TRANSFER', `no file transfer ${id}`);
    },
  } as unknown as ChatService;
  let close: () => Promise<void> = async () => {};

  before(async () => {
    const token = 'fe'.repeat(32);
    const server = await startChatApiServer({ service, token });
    close = server.close;
    await writeApiFile(dir, { port: server.port, token, pid: process.pid });
  });
  after(() => close());
  const cli = (...args: string[]): Promise<CliResult> => runCli(['--data-dir', dir, ...args]);

  test('send-file resolves a relative path against the shell, files --json is exact, lines escape names', async () => {
    const sent = await cli('send-file', 'bob', 'docs/a.txt', '--json');
    assert.equal(sent.code, 0, sent.stderr);
    assert.equal((JSON.parse(sent.stdout) as FileTransferView).path, join(REPO_ROOT, 'docs/a.txt'));
    assert.deepEqual(calls.at(-1), `send bob ${join(REPO_ROOT, 'docs/a.txt')}`);
    const listed = await cli('files', '--json');
    assert.deepEqual(JSON.parse(listed.stdout), [offer]);
    const lines = await cli('files');
    assert.equal(lines.code, 0);
    assert.match(
      lines.stdout,
      /^3fa2c1d0 {2}← bob {2}evil\\u202etxt\.exe {2}3\.0 MiB {2}offered \(accept with: dhtchat accept-file 3fa2c1d0\)\n$/,
    );
  });

  test('accept-file --to resolves, --wait follows the events to complete (exit 0)', async () => {
    ending = 'complete';
    const result = await cli('accept-file', '3fa2', '--to', 'incoming', '--wait');
    assert.equal(result.code, 0, result.stderr);
    assert.equal(calls.at(-1), `accept 3fa2 ${join(REPO_ROOT, 'incoming')}`);
    assert.match(result.stdout, /complete: \/dl\/evil\.exe\n$/);
  });

  test('accept-file --wait ending otherwise is exit 1 with one error line; file errors map to exit codes', async () => {
    transfers.set(offer.id, offer);
    ending = 'failed';
    const failed = await cli('accept-file', '3fa2', '--wait', '--json');
    assert.equal(failed.code, 1);
    assert.equal((JSON.parse(failed.stdout) as FileTransferView).state, 'failed');
    assert.match(failed.stderr, /^error: the transfer 3fa2c1d0 ended failed \(bad-pieces\)\n$/);
    const ambiguous = await cli('accept-file', 'abcd');
    assert.equal(ambiguous.code, 2, 'an ambiguous id is a usage error');
    const unknown = await cli('cancel', 'ffff');
    assert.equal(unknown.code, 1);
    assert.equal(unknown.stderr, 'error: no file transfer ffff\n');
  });
});

test('progress bar and transfer lines', () => {
  const running: FileTransferView = {
    ...offer,
    state: 'transferring',
    bytesDone: offer.size / 2,
    bytesPerSec: 2 * 1024 * 1024,
  };
  const bar = progressBar(running, 100);
  assert.match(bar, /^evil\\u202etxt\.exe {2}\[#+-+\] {2} 50% {2}2\.0 MiB\/s {2}1\.5 MiB\/3\.0 MiB$/);
  assert.ok(bar.length <= 100);
  assert.match(
    formatTransfer(running, () => undefined),
    /transferring 50% {2}2\.0 MiB\/s$/,
  );
});

test('a group transfer names its group (and, incoming, its author)', () => {
  const group = 'cd'.repeat(32);
  const incoming: FileTransferView = { ...offer, group };
  const names = (id: string) => (id === group ? 'club\u001b[2J' : undefined);
  assert.match(
    formatTransfer(incoming, () => 'bob', names),
    /← bob in group club\\x1b\[2J {2}/,
  );
  const outgoing: FileTransferView = { ...offer, group, direction: 'outgoing', state: 'offered' };
  assert.match(
    formatTransfer(outgoing, () => undefined, names),
    /→ group club\\x1b\[2J {2}/,
  );
  assert.match(
    formatTransfer(outgoing, () => undefined),
    new RegExp(`→ group ${group.slice(0, 12)} {2}`),
  );
});

test('--max-file-size: bytes or K, M, G, T (binary)', () => {
  assert.equal(parseSize('1048576'), 1048576);
  assert.equal(parseSize('4G'), 4 * 1024 ** 3);
  assert.equal(parseSize('500m'), 500 * 1024 ** 2);
  assert.equal(parseSize('2GiB'), 2 * 1024 ** 3);
  for (const bad of ['', '0', '-1', '4X', '1.5G', 'G']) assert.throws(() => parseSize(bad), /a size is/);
});
