/**
 * What groups cost in CPU (src/chat/groups/): an admin adding a member to a group of 100 (a fresh epoch key
 * sealed to every member), a member opening its copy, writing a message (encrypt + sign + store), a member taking
 * one in (decode, signature, decrypt, store), folding the membership of 100 ops, and the delivery states of a
 * page of 1,000 messages among 100 members.
 * Run: node --import tsx bench/group-costs.bench.ts   (prints a JSON object, then a table)
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeCreate } from '../src/chat/groups/group-authoring.ts';
import { deliveryCounts } from '../src/chat/groups/group-delivery.ts';
import { decodeEntry } from '../src/chat/groups/group-entry.ts';
import { openKeyBlock, sealKeyBlock } from '../src/chat/groups/group-key-seal.ts';
import { GroupKeys } from '../src/chat/groups/group-keys.ts';
import { decodeOp, isKeyOp } from '../src/chat/groups/group-ops.ts';
import { GroupReplica } from '../src/chat/groups/group-replica.ts';
import { foldMembership } from '../src/chat/groups/membership.ts';
import { identityFromSeed } from '../src/chat/identity.ts';
import { ChatStore } from '../src/chat/store/chat-store.ts';
import { ManualClock, nullLogger, SeededRandom } from '../src/runtime/index.ts';

const MEMBERS = 100;
const MESSAGES = 1000;
const T0 = Date.UTC(2026, 11, 7, 12);

function medianMs(fn: () => unknown, runs: number): number {
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    fn();
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)] ?? 0;
}

const people = Array.from({ length: MEMBERS }, (_, i) => identityFromSeed(Buffer.alloc(32, i + 1)));
const [alice, bob] = people as [(typeof people)[0], (typeof people)[0]];
const random = new SeededRandom('bench-groups');
const clock = new ManualClock(T0);
const dir = mkdtempSync(join(tmpdir(), 'dhtchat-bench-groups-'));
const events = { onMessage: () => {}, onMembership: () => {}, onOwnState: () => {} };

function replicaOf(who: (typeof people)[0], groupId: Buffer): { store: ChatStore; replica: GroupReplica } {
  const store = ChatStore.open({
    path: join(dir, `${who.publicKey.toString('hex').slice(0, 8)}.sqlite`),
    ownPublicKey: who.publicKey,
    clock,
    random,
    synchronous: 'NORMAL',
  });
  store.groups.upsert(groupId, { state: 'joining' });
  const keys = new GroupKeys(store, who, nullLogger);
  return {
    store,
    replica: new GroupReplica(
      { store, identity: who, clock, random, logger: nullLogger, keys },
      groupId,
      events,
    ),
  };
}

try {
  const ctx = { identity: alice, random, nowMs: T0 };
  const { groupId, entry: create } = writeCreate(ctx, 'bench');
  const admin = replicaOf(alice, groupId);
  admin.replica.ingest(create.bytes);
  const addStarted = performance.now();
  for (const who of people.slice(1)) {
    const recipients = [...admin.replica.membership().members.values()].map((m) => m.publicKey);
    admin.replica.writeOp({ type: 'add', target: who.publicKey, messageHeads: [] }, [
      ...recipients,
      who.publicKey,
    ]);
  }
  const addAllMs = performance.now() - addStarted;
  const recipients = people.map((p) => p.publicKey);
  const sealMs = medianMs(
    () => sealKeyBlock(groupId, alice.publicKey, recipients, random.bytes(32), random),
    5,
  );
  const block = sealKeyBlock(groupId, alice.publicKey, recipients, random.bytes(32), random);
  const openUs =
    medianMs(() => openKeyBlock(block, groupId, alice.publicKey, bob.publicKey, bob.x25519), 50) * 1000;

  const writeStarted = performance.now();
  for (let i = 0; i < MESSAGES; i++)
    admin.replica.writeMessage(`message ${i}: the quick brown fox jumps over the lazy dog`);
  const writeUs = ((performance.now() - writeStarted) * 1000) / MESSAGES;

  const member = replicaOf(bob, groupId);
  for (const op of admin.store.groups.ops(groupId)) member.replica.ingest(op.bytes);
  const messages = admin.store.groups.messages(groupId, { limit: MESSAGES });
  const ingestStarted = performance.now();
  for (const m of messages) member.replica.ingest(m.bytes);
  const ingestUs = ((performance.now() - ingestStarted) * 1000) / MESSAGES;

  const opEntries = admin.store.groups.ops(groupId).map((o) => {
    const decoded = decodeEntry(o.bytes);
    if (!decoded.ok) throw new Error('bad op');
    const op = decodeOp(decoded.entry.body);
    if (op === undefined || (op.type !== 'create' && !isKeyOp(op))) throw new Error('bad op');
    return { entry: decoded.entry, op };
  });
  const foldMs = medianMs(() => foldMembership(groupId, opEntries), 10);
  const members = [...admin.replica.membership().members.keys()];
  const heads = admin.replica.heads('message').map((h) => h.hash);
  const have = new Map(members.map((m) => [m, heads]));
  const dag = admin.store.groups.dagFrom(groupId, 1);
  const countsMs = medianMs(
    () =>
      deliveryCounts(messages, {
        dag,
        members,
        ownHex: alice.publicKey.toString('hex'),
        have,
        read: new Map(),
        inDht: new Set(),
      }),
    5,
  );
  const result = {
    members: MEMBERS,
    addMemberMsAverage: Number((addAllMs / (MEMBERS - 1)).toFixed(1)),
    sealKeyTo100Ms: Number(sealMs.toFixed(1)),
    openOwnKeyUs: Math.round(openUs),
    writeMessageUs: Math.round(writeUs),
    ingestMessageUs: Math.round(ingestUs),
    foldMembership100OpsMs: Number(foldMs.toFixed(1)),
    deliveryStates1000x100Ms: Math.round(countsMs),
    stored: member.store.groups.messages(groupId, { limit: MESSAGES }).length,
  };
  process.stdout.write(`${JSON.stringify(result)}\n`);
  process.stdout.write(
    [
      `| what | result |`,
      `| --- | --- |`,
      `| add a member to a group growing to 100 (seal to all, sign, store, fold; average) | ${result.addMemberMsAverage} ms |`,
      `| seal an epoch key to 100 members | ${result.sealKeyTo100Ms} ms |`,
      `| open our copy | ${result.openOwnKeyUs} µs |`,
      `| write a message (ratchet, encrypt, sign, store) | ${result.writeMessageUs} µs |`,
      `| take a message in (decode, verify, decrypt, store) | ${result.ingestMessageUs} µs |`,
      `| fold the membership from 100 ops | ${result.foldMembership100OpsMs} ms |`,
      `| delivery states of 1,000 messages among 100 members | ${result.deliveryStates1000x100Ms} ms |`,
    ].join('\n') + '\n',
  );
  admin.store.close();
  member.store.close();
} finally {
  rmSync(dir, { recursive: true, force: true });
}
