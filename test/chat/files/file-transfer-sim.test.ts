/**
 * File transfers between ChatNodes on the memory network, on virtual time, each user with a disk of its own
 * (MemoryFileSystem): offer → accept → pieces → a byte-identical file under a safe name; events with bytes.
 */
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { befriend, ChatSim } from '../session/chat-harness.ts';
import { fileBytes, fileUser, lastState } from './file-harness.ts';

describe('file transfer on the memory network', () => {
  const sim = new ChatSim('file-transfer-sim');
  after(() => sim.close());

  test('offer, accept, and a byte-identical file under the sender name made safe; progress events', async () => {
    const alice = fileUser(sim, 'alice', 1);
    const bob = fileUser(sim, 'bob', 2);
    await sim.startAll();
    await befriend(sim, alice.user, bob.user);
    // A 2 MiB/s bottleneck: the transfer takes virtual seconds, so progress shows between start and end.
    sim.sim.network.link = { ...sim.sim.network.link, bandwidthBytesPerSec: 2 * 1024 * 1024 };
    const content = fileBytes(3 * 1024 * 1024 + 123, 7);
    alice.fs.put('/alice/docs/report.pdf', content);
    const offered = await alice.user.node.sendFile(bob.user.node.code, '/alice/docs/report.pdf');
    assert.equal(offered.state, 'offered');
    assert.equal(offered.size, content.length);
    await sim.until(() => bob.events.some((e) => e.id === offered.id && e.state === 'offered'));
    const incoming = bob.user.node.files()[0];
    assert.equal(incoming?.name, 'report.pdf');
    assert.equal(incoming?.direction, 'incoming');
    assert.equal(incoming?.with, alice.user.node.code);
    await bob.user.node.acceptFile(offered.id.slice(0, 8));
    await sim.until(() => lastState(bob, offered.id) === 'complete', 120_000);
    assert.deepEqual(bob.fs.get('/bob/downloads/report.pdf'), content);
    assert.equal(
      [...bob.fs.files.keys()].some((p) => p.endsWith('.part')),
      false,
      'no partial file left',
    );
    await sim.until(() => lastState(alice, offered.id) === 'complete');
    const progress = bob.events.filter((e) => e.id === offered.id && e.state === 'transferring');
    assert.ok(progress.length >= 2, 'progress events while it runs');
    assert.ok(progress.some((e) => e.bytesDone > 0 && e.bytesDone < content.length));
    assert.ok(progress.some((e) => e.bytesPerSec > 0));
    const done = bob.user.node.files().find((t) => t.id === offered.id);
    assert.equal(done?.bytesDone, content.length);
    assert.equal(done?.path, '/bob/downloads/report.pdf');
  });
});
