/**
 * What can go wrong, on the memory network and virtual time: a sender's wrong piece (detected, fetched again;
 * a sender that keeps sending wrong pieces is dropped), cancels from either side (also while the other is
 * offline: it hears at the next session), limits (size, pending offers), a file changed after it was offered,
 * a stranger dialling the file channel, and a message sent during a transfer (its own stream: not queued behind
 * the file, and LEDBAT keeps the shared bottleneck's queue short).
 */
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { FileStream } from '../../../src/chat/files/file-stream.ts';
import { pieceHash } from '../../../src/chat/files/hash-tree.ts';
import { befriend, ChatSim } from '../session/chat-harness.ts';
import { bytesDone, fileBytes, fileUser, lastState, restartWith } from './file-harness.ts';
import { MemoryFileSystem } from './memory-file-system.ts';
import { nullLogger } from '../../../src/runtime/index.ts';

const MIB = 1024 * 1024;
const PIECE = 256 * 1024;

async function friends(seed: string, opts: { bobMaxBytes?: number } = {}) {
  const sim = new ChatSim(seed);
  const alice = fileUser(sim, 'alice', 1);
  const bob = fileUser(sim, 'bob', 2, new MemoryFileSystem(), opts.bobMaxBytes);
  await sim.startAll();
  await befriend(sim, alice.user, bob.user);
  return { sim, alice, bob };
}

describe('file transfers: adversity', () => {
  test('a wrong piece is detected and fetched again; the file is byte-identical', async () => {
    const { sim, alice, bob } = await friends('file-bad-piece');
    after(() => sim.close());
    const content = fileBytes(2 * MIB, 21);
    alice.fs.put('/alice/a.bin', content);
    const { id } = await alice.user.node.sendFile(bob.user.node.code, '/alice/a.bin');
    let readsOfPiece3 = 0;
    alice.fs.onRead = (path, position, bytes) => {
      if (path !== '/alice/a.bin' || position !== 3 * PIECE) return bytes;
      readsOfPiece3++;
      if (readsOfPiece3 > 1) return bytes;
      const wrong = Buffer.from(bytes);
      wrong[100] = (wrong[100] as number) ^ 0xff;
      return wrong;
    };
    await sim.until(() => lastState(bob, id) === 'offered');
    await bob.user.node.acceptFile(id);
    await sim.until(() => lastState(bob, id) === 'complete', 60_000);
    assert.equal(readsOfPiece3, 2, 'piece 3 was served twice: the wrong copy, then the right one');
    assert.deepEqual(bob.fs.get('/bob/downloads/a.bin'), content);
  });

  test('a sender that keeps sending wrong pieces is dropped: the transfer fails, nothing is kept', async () => {
    const { sim, alice, bob } = await friends('file-bad-sender');
    after(() => sim.close());
    const content = fileBytes(2 * MIB, 22);
    alice.fs.put('/alice/b.bin', content);
    const { id } = await alice.user.node.sendFile(bob.user.node.code, '/alice/b.bin');
    alice.fs.onRead = (_path, position, bytes) =>
      position >= 2 * PIECE ? Buffer.alloc(bytes.length) : bytes;
    await sim.until(() => lastState(bob, id) === 'offered');
    await bob.user.node.acceptFile(id);
    await sim.until(() => lastState(bob, id) === 'failed', 60_000);
    const failed = bob.user.node.files().find((t) => t.id === id);
    assert.equal(failed?.reason, 'bad-pieces');
    assert.ok(
      ![...bob.fs.files.keys()].some((p) => p.startsWith('/bob/downloads/b.bin')),
      'no file, no part',
    );
    await sim.until(() => lastState(alice, id) === 'canceled');
    assert.ok(!pieceHash(Buffer.alloc(PIECE)).equals(pieceHash(content.subarray(2 * PIECE, 3 * PIECE))));
  });

  test('the sender cancels mid-transfer: the receiver stops and deletes its partial file', async () => {
    const { sim, alice, bob } = await friends('file-cancel-sender');
    after(() => sim.close());
    sim.sim.network.link = { ...sim.sim.network.link, bandwidthBytesPerSec: 2 * MIB };
    alice.fs.put('/alice/c.bin', fileBytes(6 * MIB, 23));
    const { id } = await alice.user.node.sendFile(bob.user.node.code, '/alice/c.bin');
    await sim.until(() => lastState(bob, id) === 'offered');
    await bob.user.node.acceptFile(id);
    await sim.until(() => bytesDone(bob, id) > MIB, 60_000);
    const canceled = await alice.user.node.cancelFile(id);
    assert.equal(canceled.state, 'canceled');
    await sim.until(() => lastState(bob, id) === 'canceled', 30_000);
    assert.equal(bob.user.node.files()[0]?.reason, 'them');
    await sim.sim.settle(1000);
    assert.ok(![...bob.fs.files.keys()].some((p) => p.includes('c.bin')), 'partial file deleted');
    await assert.rejects(bob.user.node.cancelFile(id), { code: 'FILE_BAD_STATE' });
  });

  test('the receiver cancels mid-transfer: the sender stops serving', async () => {
    const { sim, alice, bob } = await friends('file-cancel-receiver');
    after(() => sim.close());
    sim.sim.network.link = { ...sim.sim.network.link, bandwidthBytesPerSec: 2 * MIB };
    alice.fs.put('/alice/d.bin', fileBytes(6 * MIB, 24));
    const { id } = await alice.user.node.sendFile(bob.user.node.code, '/alice/d.bin');
    await sim.until(() => lastState(bob, id) === 'offered');
    await bob.user.node.acceptFile(id);
    await sim.until(() => lastState(alice, id) === 'transferring', 30_000);
    await bob.user.node.cancelFile(id);
    await sim.until(() => lastState(alice, id) === 'canceled', 30_000);
    assert.equal(alice.user.node.files()[0]?.reason, 'them');
  });

  test('declining an offer, and a cancel made while the friend was offline, reach the other side later', async () => {
    const { sim, alice, bob } = await friends('file-cancel-offline');
    after(() => sim.close());
    alice.fs.put('/alice/e.bin', fileBytes(100_000, 25));
    alice.fs.put('/alice/f.bin', fileBytes(100_000, 26));
    const e = await alice.user.node.sendFile(bob.user.node.code, '/alice/e.bin');
    const f = await alice.user.node.sendFile(bob.user.node.code, '/alice/f.bin');
    await sim.until(() => lastState(bob, e.id) === 'offered' && lastState(bob, f.id) === 'offered');
    assert.equal((await bob.user.node.cancelFile(e.id)).state, 'declined');
    await sim.until(() => lastState(alice, e.id) === 'declined');

    sim.stop(bob.user);
    await alice.user.node.cancelFile(f.id);
    await restartWith(sim, bob, bob.fs);
    await sim.until(() => lastState(bob, f.id) === 'canceled', 60_000);
    await sim.until(
      () => alice.user.store.files.list().find((t) => t.id.toString('hex') === f.id)?.isSettled === true,
    );
  });

  test('limits: an offer over the size limit is declined; past 16 pending offers, more are declined unsaved', async () => {
    const { sim, alice, bob } = await friends('file-limits', { bobMaxBytes: MIB });
    after(() => sim.close());
    alice.fs.put('/alice/huge.bin', fileBytes(MIB + 1, 27));
    const huge = await alice.user.node.sendFile(bob.user.node.code, '/alice/huge.bin');
    await sim.until(() => lastState(alice, huge.id) === 'declined');
    assert.equal(bob.user.node.files().find((t) => t.id === huge.id)?.reason, 'too-large');
    const ids: string[] = [];
    for (let i = 0; i < 17; i++) {
      alice.fs.put(`/alice/small-${i}.txt`, Buffer.from(`file ${i}`));
      ids.push((await alice.user.node.sendFile(bob.user.node.code, `/alice/small-${i}.txt`)).id);
    }
    await sim.until(() => ids.slice(0, 16).every((id) => lastState(bob, id) === 'offered'));
    await sim.until(() => lastState(alice, ids[16] as string) === 'declined');
    assert.equal(lastState(bob, ids[16] as string), undefined, 'not saved');
    assert.equal(bob.fs.files.size, 0, 'nothing written before an accept');
  });

  test('a file changed after it was offered is refused as unavailable: both sides say failed', async () => {
    const { sim, alice, bob } = await friends('file-changed');
    after(() => sim.close());
    alice.fs.put('/alice/g.bin', fileBytes(MIB, 28));
    const { id } = await alice.user.node.sendFile(bob.user.node.code, '/alice/g.bin');
    await sim.until(() => lastState(bob, id) === 'offered');
    alice.fs.touch('/alice/g.bin');
    await bob.user.node.acceptFile(id);
    await sim.until(() => lastState(bob, id) === 'failed', 30_000);
    assert.equal(bob.user.node.files()[0]?.reason, 'unavailable');
    await sim.until(() => lastState(alice, id) === 'failed');
  });

  test('a stranger who dials the file channel is refused before any file frame is read', async () => {
    const { sim, alice } = await friends('file-stranger');
    after(() => sim.close());
    const mallory = fileUser(sim, 'mallory', 9);
    await sim.startUser(mallory.user);
    const ctx = {
      identity: mallory.user.identity,
      clock: sim.clock,
      random: { bytes: (n: number) => Buffer.alloc(n, 7), int: () => 0 },
      logger: nullLogger,
      handshakeTimeoutMs: 5000,
    };
    const dialing = FileStream.dial(
      ctx,
      mallory.user.utp,
      alice.user.address,
      alice.user.identity.publicKey,
      64,
    );
    const stream = await sim.sim.run(dialing);
    let closed: string | undefined;
    stream.start({ onFrame: () => {}, onClose: (reason) => (closed = reason.kind) });
    stream.send({ type: 'open', transferId: Buffer.alloc(16) });
    await sim.until(() => closed !== undefined, 30_000);
    assert.notEqual(closed, 'local');
  });

  test('a message sent during a transfer arrives promptly: LEDBAT keeps the bottleneck queue short', async () => {
    const { sim, alice, bob } = await friends('file-message-during');
    after(() => sim.close());
    sim.sim.network.link = { ...sim.sim.network.link, bandwidthBytesPerSec: 2 * MIB };
    alice.fs.put('/alice/h.bin', fileBytes(8 * MIB, 29));
    const { id } = await alice.user.node.sendFile(bob.user.node.code, '/alice/h.bin');
    await sim.until(() => lastState(bob, id) === 'offered');
    await bob.user.node.acceptFile(id);
    await sim.until(() => bytesDone(bob, id) > 2 * MIB, 60_000);
    const received: string[] = [];
    bob.user.node.on('message', (m) => received.push(m.message.text));
    await alice.user.node.send(bob.user.node.code, 'while the file flows');
    const tookMs = await sim.until(() => received.includes('while the file flows'), 5000, 1);
    assert.notEqual(lastState(bob, id), 'complete', 'the file was still flowing');
    // One-way latency is 5 ms; LEDBAT aims at 100 ms of queueing delay on the shared bottleneck.
    assert.ok(tookMs < 300, `message took ${tookMs} ms of virtual time`);
  });
});
