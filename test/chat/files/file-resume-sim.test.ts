/**
 * Resuming on the memory network, virtual time: the receiver killed mid-transfer (its unsynced writes lost)
 * and the sender restarted mid-transfer; each time the file ends byte-identical, and a killed receiver fetches
 * again only what its saved bitfield did not hold.
 */
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { befriend, ChatSim } from '../session/chat-harness.ts';
import { bytesDone, fileBytes, fileUser, lastState, restartWith } from './file-harness.ts';

const MIB = 1024 * 1024;

describe('file transfers resume', () => {
  test('the receiver killed mid-transfer resumes from its synced pieces to a byte-identical file', async () => {
    const sim = new ChatSim('file-resume-receiver');
    after(() => sim.close());
    const alice = fileUser(sim, 'alice', 1);
    const bob = fileUser(sim, 'bob', 2);
    await sim.startAll();
    await befriend(sim, alice.user, bob.user);
    sim.sim.network.link = { ...sim.sim.network.link, bandwidthBytesPerSec: 2 * MIB };
    const content = fileBytes(8 * MIB + 5, 11);
    alice.fs.put('/alice/big.bin', content);
    const { id } = await alice.user.node.sendFile(bob.user.node.code, '/alice/big.bin');
    await sim.until(() => lastState(bob, id) === 'offered');
    await bob.user.node.acceptFile(id);
    await sim.until(() => bytesDone(bob, id) > 4 * MIB, 60_000);

    sim.stop(bob.user);
    await restartWith(sim, bob, bob.fs.afterCrash());
    const resumedFrom = bytesDone(bob, id);
    assert.ok(resumedFrom > 2 * MIB, `resumes from what was synced (${resumedFrom} bytes)`);
    assert.ok(resumedFrom < content.length);
    let servedAfter = 0;
    alice.fs.onRead = (_path, _position, bytes) => {
      servedAfter += bytes.length;
      return bytes;
    };
    await sim.until(() => lastState(bob, id) === 'complete', 120_000);
    assert.deepEqual(bob.fs.get('/bob/downloads/big.bin'), content);
    assert.ok(
      servedAfter <= content.length - resumedFrom + MIB,
      `${servedAfter} bytes served again, not all`,
    );
    await sim.until(() => lastState(alice, id) === 'complete');
  });

  test('the sender restarted mid-transfer serves the rest from the path it saved', async () => {
    const sim = new ChatSim('file-resume-sender');
    after(() => sim.close());
    const alice = fileUser(sim, 'alice', 1);
    const bob = fileUser(sim, 'bob', 2);
    await sim.startAll();
    await befriend(sim, alice.user, bob.user);
    sim.sim.network.link = { ...sim.sim.network.link, bandwidthBytesPerSec: 2 * MIB };
    const content = fileBytes(6 * MIB, 12);
    alice.fs.put('/alice/video.mp4', content);
    const { id } = await alice.user.node.sendFile(bob.user.node.code, '/alice/video.mp4');
    await sim.until(() => lastState(bob, id) === 'offered');
    await bob.user.node.acceptFile(id);
    await sim.until(() => bytesDone(bob, id) > 2 * MIB, 60_000);

    sim.stop(alice.user);
    await restartWith(sim, alice, alice.fs);
    await sim.until(() => lastState(bob, id) === 'complete', 180_000);
    assert.deepEqual(bob.fs.get('/bob/downloads/video.mp4'), content);
    await sim.until(() => lastState(alice, id) === 'complete');
  });

  test('the file moved on the sender: the transfer waits, and send-file from the new path resumes it', async () => {
    const sim = new ChatSim('file-resume-moved');
    after(() => sim.close());
    const alice = fileUser(sim, 'alice', 1);
    const bob = fileUser(sim, 'bob', 2);
    await sim.startAll();
    await befriend(sim, alice.user, bob.user);
    sim.sim.network.link = { ...sim.sim.network.link, bandwidthBytesPerSec: 2 * MIB };
    const content = fileBytes(6 * MIB, 13);
    alice.fs.put('/alice/old/clip.mov', content);
    const { id } = await alice.user.node.sendFile(bob.user.node.code, '/alice/old/clip.mov');
    await sim.until(() => lastState(bob, id) === 'offered');
    await bob.user.node.acceptFile(id);
    await sim.until(() => bytesDone(bob, id) > 2 * MIB, 60_000);

    // The user moves the file, and a restart cuts the stream: the sender finds nothing at the saved path.
    await alice.fs.rename('/alice/old/clip.mov', '/alice/new/clip.mov');
    sim.stop(alice.user);
    await restartWith(sim, alice, alice.fs);
    await sim.until(() => alice.user.node.files().find((t) => t.id === id)?.reason === 'missing', 60_000);
    await sim.sim.settle(5000);
    const waiting = lastState(bob, id);
    assert.ok(
      waiting === 'accepted' || waiting === 'transferring',
      `the receiver waits, not over: ${waiting}`,
    );
    const before = bytesDone(bob, id);
    const again = await alice.user.node.sendFile(bob.user.node.code, '/alice/new/clip.mov');
    assert.equal(again.id, id, 'the same transfer, pointed at the new path');
    await sim.until(() => lastState(bob, id) === 'complete', 180_000);
    assert.deepEqual(bob.fs.get('/bob/downloads/clip.mov'), content);
    assert.ok(before > 2 * MIB, 'it went on from the pieces already verified');
  });
});
