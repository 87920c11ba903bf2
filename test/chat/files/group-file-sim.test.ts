/**
 * Files sent to a group, on the memory network and virtual time: the offer travels as a group message, every
 * member accepts on its own, a download draws pieces from every member who has the file (the author and those
 * who completed it), a member serving a wrong piece is banned for the transfer and the piece comes from another,
 * and a removed member (or a stranger) gets nothing.
 */
import assert from 'node:assert/strict';
import { afterEach, describe, test } from 'node:test';
import { RefuseReason } from '../../../src/chat/files/file-frames.ts';
import { FileStream, type FileStreamCloseReason } from '../../../src/chat/files/file-stream.ts';
import type { FileTransferView } from '../../../src/chat/files/transfer-view.ts';
import { befriend, ChatSim, type ChatUser, formGroup } from '../session/chat-harness.ts';
import { bytesDone, fileBytes, type FileUser, lastState, restartWith } from './file-harness.ts';
import { MemoryFileSystem } from './memory-file-system.ts';
import { nullLogger } from '../../../src/runtime/index.ts';

const MIB = 1024 * 1024;
const PIECE = 256 * 1024;

let sims: ChatSim[] = [];
afterEach(() => {
  for (const s of sims) s.close();
  sims = [];
});

/** A user with its own disk whose downloads keep two pieces in flight per source (so several sources share). */
function member(sim: ChatSim, label: string, seedByte: number): FileUser {
  const fs = new MemoryFileSystem();
  const user = sim.user(label, seedByte, {
    files: {
      downloadsDir: `/${label}/downloads`,
      fileSystem: fs,
      download: { checkpointBytes: 256 * 1024, windowBytes: 2 * PIECE },
    },
  });
  const events: FileTransferView[] = [];
  user.node.on('file', (e) => events.push(e));
  return { user, fs, events };
}

/** Alice (admin), Bob and Carol in a group; Bob and Carol are no friends of each other. */
async function club(seed: string) {
  const sim = new ChatSim(seed);
  sims.push(sim);
  const alice = member(sim, 'alice', 1);
  const bob = member(sim, 'bob', 2);
  const carol = member(sim, 'carol', 3);
  await sim.startAll();
  await befriend(sim, alice.user, bob.user);
  await befriend(sim, alice.user, carol.user);
  const group = await formGroup(sim, alice.user, [bob.user, carol.user], { isOnline: true });
  return { sim, alice, bob, carol, group };
}

function viewOf(u: FileUser, id: string): FileTransferView | undefined {
  return u.user.node.files().find((t) => t.id === id);
}

/** Alice sends a file to the group; Bob accepts and completes it. */
async function sentAndCompletedByBob(
  ctx: Awaited<ReturnType<typeof club>>,
  content: Buffer,
): Promise<string> {
  const { sim, alice, bob, carol, group } = ctx;
  alice.fs.put('/alice/song.ogg', content);
  const sent = await alice.user.node.sendFileToGroup('club', '/alice/song.ogg');
  assert.equal(sent.group, group);
  assert.equal(sent.state, 'offered');
  await sim.until(
    () => lastState(bob, sent.id) === 'offered' && lastState(carol, sent.id) === 'offered',
    30_000,
  );
  await bob.user.node.acceptFile(sent.id.slice(0, 8));
  await sim.until(() => lastState(bob, sent.id) === 'complete', 60_000);
  assert.deepEqual(bob.fs.get('/bob/downloads/song.ogg'), content);
  return sent.id;
}

function refusalOf(sim: ChatSim, dialer: ChatUser, target: ChatUser, transferId: string) {
  const ctx = {
    identity: dialer.identity,
    clock: sim.clock,
    random: { bytes: (n: number) => Buffer.alloc(n, 7), int: () => 0 },
    logger: nullLogger,
    handshakeTimeoutMs: 5000,
  };
  let closed: FileStreamCloseReason | undefined;
  let frames = 0;
  const done = sim.sim
    .run(FileStream.dial(ctx, dialer.utp, target.address, target.identity.publicKey, 1 + 4 + 4 * MIB))
    .then(
      (stream) => {
        stream.start({ onFrame: () => frames++, onClose: (reason) => (closed = reason) });
        stream.send({ type: 'open', transferId: Buffer.from(transferId, 'hex') });
      },
      () => {
        closed = { kind: 'failed' } as never;
      },
    );
  return { done, closed: () => closed, frames: () => frames };
}

describe('group files', { timeout: 180_000 }, () => {
  test('a file sent to a group: every member sees it; a download draws pieces from the author AND a member who completed it', async () => {
    const ctx = await club('group-file-sources');
    const { sim, alice, bob, carol, group } = ctx;
    const content = fileBytes(6 * MIB, 41);
    const id = await sentAndCompletedByBob(ctx, content);
    // The offer is a group message: a line in `messages`, naming the transfer.
    const line = carol.user.node.groups.messages(group).find((m) => m.file?.id === id);
    assert.equal(line?.text, 'song.ogg');
    assert.equal(line?.from, alice.user.node.code);
    const offered = viewOf(carol, id);
    assert.equal(offered?.group, group);
    assert.equal(offered?.with, alice.user.node.code);
    // Carol accepts with Alice and Bob online: both serve her.
    sim.sim.network.link = { ...sim.sim.network.link, bandwidthBytesPerSec: 4 * MIB };
    await carol.user.node.acceptFile(id);
    await sim.until(() => lastState(carol, id) === 'complete', 120_000);
    assert.deepEqual(carol.fs.get('/carol/downloads/song.ogg'), content);
    const sources = viewOf(carol, id)?.sources ?? [];
    const fromAlice = sources.find((s) => s.with === alice.user.node.code);
    const fromBob = sources.find((s) => s.with === bob.user.node.code);
    assert.ok((fromAlice?.pieces ?? 0) > 0, `pieces from Alice: ${JSON.stringify(sources)}`);
    assert.ok((fromBob?.pieces ?? 0) > 0, `pieces from Bob: ${JSON.stringify(sources)}`);
    assert.equal((fromAlice?.pieces ?? 0) + (fromBob?.pieces ?? 0), (6 * MIB) / PIECE);
    assert.equal(viewOf(alice, id)?.state !== 'failed', true);
  });

  test('a member serving a wrong piece is banned for the transfer; the piece comes from another; the file is byte-identical', async () => {
    const ctx = await club('group-file-bad-member');
    const { sim, alice, bob, carol } = ctx;
    const content = fileBytes(4 * MIB, 42);
    const id = await sentAndCompletedByBob(ctx, content);
    // Bob's copy now reads wrong (a bad disk, or a member who lies): every piece he serves fails its hash.
    let badServed = 0;
    bob.fs.onRead = (path, _position, bytes) => {
      if (path !== '/bob/downloads/song.ogg' || bytes.length !== PIECE) return bytes;
      badServed++;
      const wrong = Buffer.from(bytes);
      wrong[7] = (wrong[7] as number) ^ 0xff;
      return wrong;
    };
    sim.sim.network.link = { ...sim.sim.network.link, bandwidthBytesPerSec: 4 * MIB };
    await carol.user.node.acceptFile(id);
    await sim.until(() => lastState(carol, id) === 'complete', 120_000);
    assert.deepEqual(carol.fs.get('/carol/downloads/song.ogg'), content);
    assert.ok(badServed >= 1, 'Bob served at least one wrong piece');
    const sources = viewOf(carol, id)?.sources ?? [];
    const fromBob = sources.find((s) => s.with === bob.user.node.code);
    const fromAlice = sources.find((s) => s.with === alice.user.node.code);
    assert.equal(fromBob?.isBanned, true, JSON.stringify(sources));
    assert.equal(fromBob?.badPieces, 1, 'one wrong piece is enough');
    assert.equal(fromBob?.pieces, 0);
    assert.equal(fromAlice?.pieces, (4 * MIB) / PIECE, 'every piece, the re-fetched one too, from Alice');
  });

  test('a member whose session comes up during a download is added as a source', async () => {
    const ctx = await club('group-file-late-source');
    const { sim, alice, bob, carol } = ctx;
    const content = fileBytes(8 * MIB, 45);
    const id = await sentAndCompletedByBob(ctx, content);
    sim.stop(bob.user);
    sim.sim.network.link = { ...sim.sim.network.link, bandwidthBytesPerSec: 1 * MIB };
    await carol.user.node.acceptFile(id);
    await sim.until(() => bytesDone(carol, id) >= MIB, 60_000);
    const source = (u: FileUser) => viewOf(carol, id)?.sources.find((s) => s.with === u.user.node.code);
    assert.equal(source(bob), undefined, 'Bob is away');
    await restartWith(sim, bob, bob.fs);
    await sim.until(() => lastState(carol, id) === 'complete', 120_000);
    assert.deepEqual(carol.fs.get('/carol/downloads/song.ogg'), content);
    assert.ok(
      (source(bob)?.pieces ?? 0) > 0,
      `Bob served once back: ${JSON.stringify(viewOf(carol, id)?.sources)}`,
    );
    assert.ok((source(alice)?.pieces ?? 0) > 0);
  });

  test('a member still downloading serves the pieces it holds: with the author away, another member gets them from it', async () => {
    const ctx = await club('group-file-partial');
    const { sim, alice, bob, carol, group } = ctx;
    const content = fileBytes(8 * MIB, 44);
    alice.fs.put('/alice/big.bin', content);
    const { id } = await alice.user.node.sendFileToGroup(group, '/alice/big.bin');
    await sim.until(() => lastState(bob, id) === 'offered' && lastState(carol, id) === 'offered', 30_000);
    sim.sim.network.link = { ...sim.sim.network.link, bandwidthBytesPerSec: 2 * MIB };
    await bob.user.node.acceptFile(id);
    await sim.until(() => bytesDone(bob, id) >= 3 * MIB, 60_000);
    // Alice goes away mid-way: Bob holds some pieces, nobody holds the rest.
    sim.stop(alice.user);
    await sim.sim.settle(2000);
    const bobHas = bytesDone(bob, id);
    assert.ok(bobHas < 8 * MIB);
    await carol.user.node.acceptFile(id);
    await sim.until(() => bytesDone(carol, id) >= bobHas, 60_000);
    const fromBob = () => viewOf(carol, id)?.sources.find((s) => s.with === bob.user.node.code);
    assert.equal(fromBob()?.pieces, bobHas / PIECE, 'every piece Bob held, from Bob');
    await sim.sim.settle(5000);
    assert.equal(bytesDone(carol, id), bobHas, 'the rest waits for someone who has it');
    // Alice is back: both finish, byte-identical.
    await restartWith(sim, alice, alice.fs);
    await sim.until(() => lastState(bob, id) === 'complete' && lastState(carol, id) === 'complete', 120_000);
    assert.deepEqual(carol.fs.get('/carol/downloads/big.bin'), content);
    assert.deepEqual(bob.fs.get('/bob/downloads/big.bin'), content);
  });

  test('a removed member is refused by the author and by members who hold the file; a stranger too', async () => {
    const ctx = await club('group-file-removed');
    const { sim, alice, bob, carol, group } = ctx;
    const id = await sentAndCompletedByBob(ctx, fileBytes(1 * MIB, 43));
    // While Carol is a member, Bob (no friend of hers) serves her: the stream opens.
    const asMember = refusalOf(sim, carol.user, bob.user, id);
    await asMember.done;
    await sim.until(() => asMember.frames() > 0 || asMember.closed() !== undefined, 30_000);
    assert.equal(asMember.frames(), 1, 'opened');
    alice.user.node.groups.remove(group, carol.user.node.code);
    await sim.until(
      () =>
        [alice, bob].every((u) => u.user.node.groups.members(group).length === 2) &&
        carol.user.node.groups.list().some((g) => g.id === group && g.state === 'removed'),
      30_000,
    );
    // The stream Bob served her is closed; Alice (her friend) refuses the transfer; Bob refuses her at all.
    await sim.until(() => asMember.closed() !== undefined, 30_000);
    const fromAlice = refusalOf(sim, carol.user, alice.user, id);
    await fromAlice.done;
    await sim.until(() => fromAlice.closed() !== undefined, 30_000);
    assert.deepEqual(fromAlice.closed(), { kind: 'refused', reason: RefuseReason.unknown });
    assert.equal(fromAlice.frames(), 0);
    const fromBob = refusalOf(sim, carol.user, bob.user, id);
    await fromBob.done;
    await sim.until(() => fromBob.closed() !== undefined, 30_000);
    assert.equal(fromBob.frames(), 0);
    // Her own offer row: she can no longer accept it.
    await assert.rejects(carol.user.node.acceptFile(id), { code: 'FILE_BAD_STATE' });
    // A stranger who learnt the id gets nothing either.
    const mallory = member(sim, 'mallory', 9);
    await sim.startUser(mallory.user);
    const fromStranger = refusalOf(sim, mallory.user, alice.user, id);
    await fromStranger.done;
    await sim.until(() => fromStranger.closed() !== undefined, 30_000);
    assert.equal(fromStranger.frames(), 0);
  });
});
