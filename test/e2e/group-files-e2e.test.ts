/**
 * A file sent to a group end to end (issue 15 §5): three daemons on a loopback testnet. Alice befriends Bob and
 * Carol (who are no friends of each other) and makes them members of "club"; `send-file club <path>` announces a
 * 16 MiB file to the group; both see the offer in `files` and a line for it in `messages club`; Bob accepts and
 * completes it; then Carol accepts while Alice and Bob are online, and her copy is byte-identical. Which of the
 * two served her how many pieces is printed (per-source counters of her transfer), not asserted: on an idle
 * machine either may serve most of it.
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { callDaemon } from '../../src/app/chat-api-client.ts';
import type { FileTransferView, GroupMessageView } from '../../src/app/chat-api-types.ts';
import { decodeFriendCode } from '../../src/chat/index.ts';
import { runCli } from '../helpers/cli-runner.ts';
import {
  cliJson,
  DEBUG_ENV,
  dumpingLogs,
  eventually,
  type JsonLinesProcess,
  REQUEST_POLL_MS,
  STEP_MS,
  startChatDaemon,
  startFriendsOnTestnet,
  stopAll,
  waitForAnnouncement,
} from './chat-processes.ts';

const FILE_BYTES = 16 * 1024 * 1024;
const PIECE_BYTES = 256 * 1024;
const TRANSFER_MS = 180_000;
const running: JsonLinesProcess[] = [];
after(() => stopAll(running));

async function transferAt(dir: string, id: string): Promise<FileTransferView | undefined> {
  return ((await callDaemon(dir, 'GET', '/v1/files')) as FileTransferView[]).find((t) => t.id === id);
}

async function completeAt(dir: string, id: string, who: string): Promise<FileTransferView> {
  return eventually(
    `the file complete at ${who}`,
    async () => {
      const t = await transferAt(dir, id);
      return t?.state === 'complete' ? t : undefined;
    },
    TRANSFER_MS,
    250,
  );
}

describe('group files between daemons', () => {
  test('send-file <group>: two members accept, the second draws on every member who has it', {
    timeout: 600_000,
  }, async () => {
    const { alice, bob, bootstrap } = await startFriendsOnTestnet(running, { env: DEBUG_ENV });
    await dumpingLogs(running, async () => {
      // Carol: Alice's friend too (invites go between friends), never Bob's.
      const carolDir = mkdtempSync(join(tmpdir(), 'dhtchat-carol-'));
      const carolCode = ((await cliJson(carolDir, 'init', '--name', 'Carol')) as { code: string }).code;
      await cliJson(alice.dir, 'add', carolCode, '--name', 'carol');
      await waitForAnnouncement(bootstrap, decodeFriendCode(carolCode), alice.daemon.port, STEP_MS);
      await startChatDaemon(carolDir, bootstrap, running, { port: 0, env: DEBUG_ENV });
      await eventually(
        "Alice's request at Carol",
        async () =>
          ((await callDaemon(carolDir, 'GET', '/v1/requests')) as { code: string }[]).some(
            (r) => r.code === alice.code,
          ) || undefined,
        REQUEST_POLL_MS,
      );
      await cliJson(carolDir, 'accept', alice.code);

      const group = ((await cliJson(alice.dir, 'group', 'create', 'club')) as { id: string }).id;
      for (const [dir, code] of [
        [bob.dir, bob.code],
        [carolDir, carolCode],
      ] as const) {
        await eventually(
          'the invite arrives',
          async () => {
            await callDaemon(alice.dir, 'POST', '/v1/groups/invite', { group, who: code }).catch(
              () => undefined,
            );
            const invites = (await callDaemon(dir, 'GET', '/v1/groups/invites')) as { group: string }[];
            return invites.some((i) => i.group === group) || undefined;
          },
          STEP_MS,
          2000,
        );
        await callDaemon(dir, 'POST', '/v1/groups/accept', { group });
      }
      for (const dir of [alice.dir, bob.dir, carolDir]) {
        await eventually(
          'three members online',
          async () => {
            const members = (await callDaemon(dir, 'GET', `/v1/groups/members?group=${group}`)) as {
              isOnline: boolean;
            }[];
            return members.length === 3 && members.every((m) => m.isOnline) ? true : undefined;
          },
          STEP_MS,
        );
      }

      // Alice sends it to the group with the CLI, by the group's name.
      const content = randomBytes(FILE_BYTES);
      const digest = createHash('sha256').update(content).digest('hex');
      const source = join(alice.dir, 'club notes.bin');
      writeFileSync(source, content);
      const sent = (await cliJson(alice.dir, 'send-file', 'club', source)) as FileTransferView;
      assert.equal(sent.group, group);
      assert.equal(sent.state, 'offered');
      for (const dir of [bob.dir, carolDir]) {
        const offered = await eventually('the offer', () => transferAt(dir, sent.id), STEP_MS, 250);
        assert.equal(offered.group, group);
        assert.equal(offered.with, alice.code);
        const line = (
          (await callDaemon(dir, 'GET', `/v1/groups/messages?group=${group}`)) as GroupMessageView[]
        ).find((m) => m.file?.id === sent.id);
        assert.equal(line?.text, 'club notes.bin');
      }
      const shown = await runCli(['--data-dir', carolDir, 'messages', 'club', '--peek']);
      assert.match(
        shown.stdout,
        /sent a file: club notes\.bin \(accept with: dhtchat accept-file [0-9a-f]{8}\)/,
      );

      await cliJson(bob.dir, 'accept-file', sent.id.slice(0, 8));
      await completeAt(bob.dir, sent.id, 'Bob');
      await cliJson(carolDir, 'accept-file', sent.id.slice(0, 8));
      const done = await completeAt(carolDir, sent.id, 'Carol');
      assert.equal(
        createHash('sha256')
          .update(readFileSync(join(carolDir, 'downloads', 'club notes.bin')))
          .digest('hex'),
        digest,
        'byte-identical',
      );
      const pieces = done.sources.reduce((sum, s) => sum + s.pieces, 0);
      assert.equal(pieces, FILE_BYTES / PIECE_BYTES, 'every piece from some member');
      assert.ok(done.sources.every((s) => !s.isBanned && s.badPieces === 0));
      console.log(
        `Carol's sources: ${done.sources.map((s) => `${s.with === alice.code ? 'Alice' : 'Bob'} ${s.pieces}`).join(', ')}`,
      );
    });
  });
});
