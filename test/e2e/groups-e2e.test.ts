/**
 * Groups end to end (issue 15, acceptance): real daemons on a loopback testnet.
 *
 * Five users; Alice befriends the four others and makes them members of "club" (members need not be friends).
 * Dave and Eve stop; Alice, Bob and Carol send a burst of 50 messages; each files its own in the DHT for the
 * absent. Dave comes back while the writers are online and catches up from them; then everyone but Eve stops and
 * Eve comes back to nobody: she gets the 50 from the DHT mailbox alone. All five list the same 50 in the same
 * order. Then Carol, run in this process on her own data dir, forwards a message written under Alice's name:
 * Bob's daemon rejects it (its signature is not Alice's) while Carol's genuine message goes through. Alice
 * removes Dave; Bob's next message cannot be decrypted with any key Dave holds (shown on the stored bytes, with
 * Dave's identity and key store), while his keys still open what came before.
 */
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { callDaemon } from '../../src/app/chat-api-client.ts';
import { loadIdentity } from '../../src/app/chat-data-dir.ts';
import { startDaemon } from '../../src/app/daemon.ts';
import { signEntry, decodeEntry, encodeHeader } from '../../src/chat/groups/group-entry.ts';
import { openKeyBlock } from '../../src/chat/groups/group-key-seal.ts';
import { GroupKeys } from '../../src/chat/groups/group-keys.ts';
import {
  decodeMessageBody,
  MESSAGE_NONCE_BYTES,
  openMessageBody,
  ratchetTo,
  sealMessageBody,
} from '../../src/chat/groups/group-message-seal.ts';
import { decodeOp, isKeyOp } from '../../src/chat/groups/group-ops.ts';
import { ChatStore, decodeFriendCode, type Identity } from '../../src/chat/index.ts';
import { cryptoRandom, jsonLinesLogger, nullLogger, systemClock } from '../../src/runtime/index.ts';
import {
  type ChatDaemon,
  cliJson,
  DEBUG_ENV,
  dumpingLogs,
  eventually,
  type JsonLinesProcess,
  REQUEST_POLL_MS,
  STEP_MS,
  startChatDaemon,
  startJsonLines,
  stopAll,
  waitForAnnouncement,
} from './chat-processes.ts';

interface User {
  readonly name: string;
  readonly dir: string;
  readonly code: string;
  daemon: ChatDaemon | undefined;
}
interface GroupMessage {
  readonly id: string;
  readonly from: string;
  readonly text: string;
  readonly state: string;
}

const running: JsonLinesProcess[] = [];
after(() => stopAll(running));

async function groupTexts(user: User, group: string): Promise<string[]> {
  const query = new URLSearchParams({ group });
  const list = (await callDaemon(user.dir, 'GET', `/v1/groups/messages?${query}`)) as GroupMessage[];
  return list.map((m) => m.text);
}

async function stop(user: User): Promise<void> {
  await user.daemon?.proc.stop();
  user.daemon = undefined;
}

function openStore(user: User): ChatStore {
  return ChatStore.open({
    path: join(user.dir, 'chat.sqlite'),
    ownPublicKey: decodeFriendCode(user.code),
    clock: systemClock,
    random: cryptoRandom,
  });
}

/** What `who` (its identity and key store) can read of a stored message entry, trying every key it holds. */
function readWith(
  identity: Identity,
  store: ChatStore,
  groupId: Buffer,
  bytes: Buffer,
  ops: Buffer[],
): string[] {
  const decoded = decodeEntry(bytes);
  assert.ok(decoded.ok);
  const body = decodeMessageBody(decoded.entry.body);
  assert.ok(body !== undefined);
  const header = bytes.subarray(0, decoded.entry.bodyOffset);
  const opened: string[] = [];
  const tryKey = (stepKey: Buffer | undefined): void => {
    if (stepKey === undefined) return;
    const text = openMessageBody({
      entryHeader: header,
      groupId,
      author: decoded.entry.author,
      body,
      stepKey,
    });
    if (text !== undefined) opened.push(text);
  };
  tryKey(new GroupKeys(store, identity, nullLogger).stepKey(groupId, body.epoch, body.step));
  for (const row of store.groups.keys(groupId))
    tryKey(ratchetTo(row.key, row.step, body.step, groupId, row.epoch));
  // And the key op of its epoch, opened with the identity itself (is a copy of the key sealed to it?).
  for (const opBytes of ops) {
    const op = decodeEntry(opBytes);
    if (!op.ok || !op.entry.hash.equals(body.epoch)) continue;
    const parsed = decodeOp(op.entry.body);
    if (parsed === undefined || !isKeyOp(parsed)) continue;
    const key = openKeyBlock(parsed.keys, groupId, op.entry.author, identity.publicKey, identity.x25519);
    if (key !== undefined) tryKey(ratchetTo(key, 0, body.step, groupId, body.epoch));
  }
  return opened;
}

describe('groups end to end', { timeout: 900_000 }, () => {
  test('5 members: burst with two away (sessions, then the DHT alone), a forged author, a removal', async () => {
    await dumpingLogs(running, async () => {
      const testnet = startJsonLines(['testnet', '--nodes', '30', '--json']);
      running.push(testnet);
      const names = ['Alice', 'Bob', 'Carol', 'Dave', 'Eve'];
      const dirs = names.map((n) => mkdtempSync(join(tmpdir(), `dhtchat-group-${n.toLowerCase()}-`)));
      const [formed, ...inits] = await Promise.all([
        testnet.waitFor((l) => typeof l['bootstrap'] === 'string', 60_000),
        ...names.map((n, i) => cliJson(dirs[i] as string, 'init', '--name', n)),
      ]);
      const bootstrap = (formed as Record<string, unknown>)['bootstrap'] as string;
      const users: User[] = names.map((name, i) => ({
        name,
        dir: dirs[i] as string,
        code: (inits[i] as { code: string }).code,
        daemon: undefined,
      }));
      const [alice, bob, carol, dave, eve] = users as [User, User, User, User, User];
      const start = async (user: User): Promise<void> => {
        user.daemon = await startChatDaemon(user.dir, bootstrap, running, { env: DEBUG_ENV });
      };

      // Alice befriends everyone through the DHT (the others start once her requests are announced).
      await start(alice);
      for (const friend of [bob, carol, dave, eve])
        await cliJson(alice.dir, 'add', friend.code, '--name', friend.name.toLowerCase());
      for (const friend of [bob, carol, dave, eve]) {
        await waitForAnnouncement(
          bootstrap,
          decodeFriendCode(friend.code),
          alice.daemon?.port as number,
          STEP_MS,
        );
      }
      await Promise.all([bob, carol, dave, eve].map(start));
      for (const friend of [bob, carol, dave, eve]) {
        await eventually(
          `Alice's request at ${friend.name}`,
          async () =>
            ((await callDaemon(friend.dir, 'GET', '/v1/requests')) as { code: string }[]).some(
              (r) => r.code === alice.code,
            ) || undefined,
          REQUEST_POLL_MS,
        );
        await cliJson(friend.dir, 'accept', alice.code);
      }

      // The group: Alice creates it (CLI), invites her friends; each accepts.
      const group = ((await cliJson(alice.dir, 'group', 'create', 'club')) as { id: string }).id;
      for (const friend of [bob, carol, dave, eve]) {
        await eventually(
          `${friend.name} is told about the group`,
          async () => {
            await callDaemon(alice.dir, 'POST', '/v1/groups/invite', { group, who: friend.code }).catch(
              () => undefined,
            );
            const invites = (await callDaemon(friend.dir, 'GET', '/v1/groups/invites')) as {
              group: string;
            }[];
            return invites.some((i) => i.group === group) || undefined;
          },
          STEP_MS,
          2000,
        );
        await callDaemon(friend.dir, 'POST', '/v1/groups/accept', { group });
      }
      for (const user of users) {
        await eventually(
          `${user.name} sees five members online`,
          async () => {
            const members = (await callDaemon(user.dir, 'GET', `/v1/groups/members?group=${group}`)) as {
              isOnline: boolean;
            }[];
            return members.length === 5 && members.every((m) => m.isOnline) ? true : undefined;
          },
          STEP_MS,
        );
      }

      // Dave and Eve go away; a burst of 50 from Alice, Bob and Carol (the CLI once, the API for the rest).
      await Promise.all([stop(dave), stop(eve)]);
      const writers = [alice, bob, carol];
      await runCliSend(alice.dir, group);
      for (let i = 1; i < 50; i += 5) {
        await Promise.all(
          Array.from({ length: Math.min(5, 50 - i) }, (_, k) => {
            const n = i + k;
            const writer = writers[n % 3] as User;
            return callDaemon(writer.dir, 'POST', '/v1/groups/messages', { group, text: `burst ${n}` });
          }),
        );
      }
      for (const writer of writers) {
        await eventually(
          `${writer.name} has 50`,
          async () => ((await groupTexts(writer, group)).length === 50 ? true : undefined),
          STEP_MS,
        );
      }
      const order = await groupTexts(alice, group);
      assert.deepEqual(await groupTexts(bob, group), order);
      assert.deepEqual(await groupTexts(carol, group), order);
      // Each writer files its own messages in the DHT for the two who lack them.
      for (const writer of writers) {
        await writer.daemon?.proc.waitFor((l) => l['event'] === 'group_bundles_stored', STEP_MS);
      }

      // Dave comes back while the writers are online: they bring him everything.
      await start(dave);
      await eventually(
        'Dave has 50',
        async () => ((await groupTexts(dave, group)).length === 50 ? true : undefined),
        STEP_MS,
      );
      assert.deepEqual(await groupTexts(dave, group), order);

      // Everyone but Eve stops; Eve comes back to nobody: the DHT mailbox alone.
      await Promise.all([alice, bob, carol, dave].map(stop));
      await start(eve);
      await eventually(
        'Eve has 50 from the DHT',
        async () => ((await groupTexts(eve, group)).length === 50 ? true : undefined),
        2 * STEP_MS,
      );
      assert.deepEqual(await groupTexts(eve, group), order);
      const online = (await callDaemon(eve.dir, 'GET', `/v1/groups/members?group=${group}`)) as {
        isOnline: boolean;
      }[];
      assert.equal(online.filter((m) => m.isOnline).length, 1, 'nobody else was online');

      // Alice and Bob come back; Carol runs in this process, on her own data dir, to forge.
      await Promise.all([start(alice), start(bob)]);
      const carolLines: Record<string, unknown>[] = [];
      const [host, port] = bootstrap.split(':') as [string, string];
      const carolDaemon = await startDaemon({
        dataDir: carol.dir,
        host: '127.0.0.1',
        bootstrap: [{ host, port: Number(port) }],
        allowPrivate: true,
        portMapping: false,
        logger: jsonLinesLogger(
          (line) => carolLines.push(JSON.parse(line) as Record<string, unknown>),
          'debug',
        ),
      });
      try {
        const groupId = Buffer.from(group, 'hex');
        await eventually(
          'Carol linked with Bob',
          async () => (carolDaemon.chat.groups.sync.isLinked(decodeFriendCode(bob.code)) ? true : undefined),
          STEP_MS,
        );
        // A message under Alice's name, sealed with the group key Carol holds, signed by Carol.
        const { identity: carolIdentity } = await loadIdentity(carol.dir);
        const replica = carolDaemon.chat.groups.replica(groupId);
        assert.ok(replica !== undefined);
        const epoch = replica.membership().currentEpoch;
        assert.ok(epoch !== undefined);
        const key = carolDaemon.chat.groups.keys.forSending(groupId, epoch, Date.now());
        assert.ok(key !== undefined);
        const fields = {
          kind: 'message' as const,
          groupId,
          author: decodeFriendCode(alice.code),
          seq: 1000,
          lamport: (replica.heads('message')[0]?.lamport ?? 0) + 1,
          createdMs: Date.now(),
          parents: replica
            .heads('message')
            .slice(0, 1)
            .map((h) => h.hash),
        };
        const body = sealMessageBody({
          entryHeader: encodeHeader(fields),
          groupId,
          author: fields.author,
          epoch: epoch.hash,
          ...key,
          nonce: cryptoRandom.bytes(MESSAGE_NONCE_BYTES),
          text: 'forged: Alice says Carol is admin now',
        });
        const forged = signEntry({ ...fields, body }, carolIdentity.signing);
        assert.ok(
          carolDaemon.chat.groups.sync.toMembers(groupId, { type: 'entry', groupId, entry: forged.bytes }) >=
            1,
        );
        await bob.daemon?.proc.waitFor(
          (l) => l['msg'] === 'group entry rejected' && l['code'] === 'CHAT_GROUP_BAD_SIGNATURE',
          STEP_MS,
        );
        // Her genuine message goes through the same way: the forged one was refused, not lost.
        carolDaemon.chat.groups.send(group, 'carol, really');
        await eventually(
          'Carol’s message at Bob',
          async () => ((await groupTexts(bob, group)).includes('carol, really') ? true : undefined),
          STEP_MS,
        );
        assert.ok(!(await groupTexts(bob, group)).some((t) => t.startsWith('forged')));
        assert.ok(!(await groupTexts(alice, group)).some((t) => t.startsWith('forged')));

        // Alice removes Dave (CLI); Bob's next message goes to Alice, Carol and Eve only.
        await cliJson(alice.dir, 'group', 'remove', 'club', dave.code);
        await eventually(
          'Bob sees four members',
          async () => {
            const members = (await callDaemon(
              bob.dir,
              'GET',
              `/v1/groups/members?group=${group}`,
            )) as unknown[];
            return members.length === 4 ? true : undefined;
          },
          STEP_MS,
        );
        await callDaemon(bob.dir, 'POST', '/v1/groups/messages', { group, text: 'after removing Dave' });
        await eventually(
          'Eve has it',
          async () => ((await groupTexts(eve, group)).includes('after removing Dave') ? true : undefined),
          STEP_MS,
        );
        assert.ok(carolDaemon.chat.groups.messages(group).some((m) => m.text === 'after removing Dave'));
      } finally {
        await carolDaemon.close();
      }

      // Every daemon stops; Dave's keys against the stored bytes.
      await Promise.all([alice, bob, eve].map(stop));
      const bobStore = openStore(bob);
      const daveStore = openStore(dave);
      try {
        const groupId = Buffer.from(group, 'hex');
        const all = bobStore.groups.messages(groupId);
        const last = all.find((m) => m.text === 'after removing Dave');
        const earlier = all.find((m) => m.text === 'burst 7');
        assert.ok(last !== undefined && earlier !== undefined);
        const ops = bobStore.groups.ops(groupId).map((o) => o.bytes);
        const { identity: daveIdentity } = await loadIdentity(dave.dir);
        const before = readWith(daveIdentity, daveStore, groupId, earlier.bytes, ops);
        assert.ok(
          before.length > 0 && before.every((t) => t === 'burst 7'),
          'his keys open what came before',
        );
        assert.deepEqual(
          readWith(daveIdentity, daveStore, groupId, last.bytes, ops),
          [],
          'nothing Dave holds opens the next one',
        );
        assert.ok(!daveStore.groups.messages(groupId).some((m) => m.text === 'after removing Dave'));
      } finally {
        bobStore.close();
        daveStore.close();
      }
    });
  });
});

/** One message through the CLI, as a user types it (`send <group> <text>`). */
async function runCliSend(dir: string, group: string): Promise<void> {
  const sent = (await cliJson(dir, 'send', 'club', 'burst 0')) as { id: string; group: string };
  assert.equal(sent.group, group);
}
