/**
 * The dhtchat introducer extension on a MemoryNetwork: dhtchat_forward → dhtchat_note, only to recent queriers,
 * never amplifying, rate limited, and refused cleanly (KRPC errors) everywhere else.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  decodeKrpc,
  encodeKrpc,
  type IncomingNote,
  KrpcRemoteError,
  NOTE_MAX_BYTES,
  RECENT_QUERIER_MS,
} from '../../src/dht/index.ts';
import { SimNet } from './dht-node-harness.ts';

function setup(seed: string) {
  const net = new SimNet(seed);
  const introducer = net.add({ host: '10.0.0.1' });
  const alice = net.add({ host: '10.0.0.2' });
  const bob = net.add({ host: '10.0.0.3' });
  return { net, introducer, alice, bob };
}

async function refusal(p: Promise<unknown>): Promise<number> {
  try {
    await p;
  } catch (error) {
    if (error instanceof KrpcRemoteError) return error.krpcCode;
    throw error;
  }
  throw new Error('expected a KRPC error');
}

describe('dhtchat_forward / dhtchat_note', () => {
  test('forwards a note to a recent querier, with the caller address as the introducer saw it', async () => {
    const { net, introducer, alice, bob } = setup('forward-ok');
    const notes: IncomingNote[] = [];
    bob.node.onNote((n) => notes.push(n));
    const seen = await net.run(bob.node.ping(introducer.address));
    assert.deepEqual(seen.yourAddress, bob.address);
    const ack = await net.run(alice.node.forwardNote(introducer.address, bob.address, Buffer.from('punch')));
    assert.deepEqual(ack.yourAddress, alice.address);
    await net.settle(100);
    assert.equal(notes.length, 1);
    assert.equal(notes[0]!.note.toString(), 'punch');
    assert.deepEqual(notes[0]!.from, alice.address);
    assert.deepEqual(notes[0]!.via, introducer.address);
    assert.equal(introducer.node.stats().notes.forwarded, 1);
    assert.equal(bob.node.stats().notes.notesIn, 1);
    net.close();
  });

  test('never forwards to an address that did not query it (no reflector), nor after RECENT_QUERIER_MS', async () => {
    const { net, introducer, alice, bob } = setup('forward-unknown');
    const notes: IncomingNote[] = [];
    bob.node.onNote((n) => notes.push(n));
    assert.equal(
      await net.run(refusal(alice.node.forwardNote(introducer.address, bob.address, Buffer.from('x')))),
      203,
    );
    await net.run(bob.node.ping(introducer.address));
    await net.settle(RECENT_QUERIER_MS + 1000, 1000);
    assert.equal(
      await net.run(refusal(alice.node.forwardNote(introducer.address, bob.address, Buffer.from('x')))),
      203,
    );
    await net.settle(100);
    assert.equal(notes.length, 0);
    assert.equal(introducer.node.stats().notes.refused, 2);
    net.close();
  });

  test('refuses a note over NOTE_MAX_BYTES and sends nothing', async () => {
    const { net, introducer, alice, bob } = setup('forward-big');
    const notes: IncomingNote[] = [];
    bob.node.onNote((n) => notes.push(n));
    await net.run(bob.node.ping(introducer.address));
    const big = Buffer.alloc(NOTE_MAX_BYTES + 1, 1);
    assert.equal(await net.run(refusal(alice.node.forwardNote(introducer.address, bob.address, big))), 203);
    await net.run(alice.node.forwardNote(introducer.address, bob.address, Buffer.alloc(NOTE_MAX_BYTES, 2)));
    await net.settle(100);
    assert.equal(notes.length, 1);
    assert.equal(notes[0]!.note.length, NOTE_MAX_BYTES);
    net.close();
  });

  test('the forwarded packet is never larger than the forward query (anti-amplification)', async () => {
    const { net, introducer } = setup('forward-size');
    const target = net.raw({ host: '10.0.0.9', port: 6881 });
    const caller = net.raw({ host: '10.0.0.8', port: 6881 });
    // The target pings the introducer (a hand-made ping: the raw endpoint is now a recent querier).
    const ping = encodeKrpc({
      kind: 'query',
      tid: Buffer.from('pp'),
      id: Buffer.alloc(20, 9),
      readOnly: false,
      want: [],
      method: 'ping',
    });
    target.transport.send(ping, introducer.address);
    await net.settle(50);
    for (const noteBytes of [0, 1, 50, NOTE_MAX_BYTES]) {
      // The smallest honest forward query: 1-byte tid, no version.
      const forward = encodeKrpc({
        kind: 'query',
        tid: Buffer.from('f'),
        id: Buffer.alloc(20, 8),
        readOnly: false,
        want: [],
        method: 'dhtchat_forward',
        to: target.transport.localAddress(),
        note: Buffer.alloc(noteBytes, 7),
      });
      const before = target.received.length;
      caller.transport.send(forward, introducer.address);
      await net.settle(50);
      const got = target.received.slice(before).filter((r) => {
        const d = decodeKrpc(r.bytes);
        return d.ok && d.message.kind === 'query' && d.message.method === 'dhtchat_note';
      });
      assert.equal(got.length, 1, `note of ${noteBytes} bytes forwarded`);
      assert.ok(got[0]!.bytes.length < forward.length, `${got[0]!.bytes.length} >= ${forward.length}`);
    }
    net.close();
  });

  test('rate limits forwards per source', async () => {
    const { net, introducer, alice, bob } = setup('forward-rate');
    const notes: IncomingNote[] = [];
    bob.node.onNote((n) => notes.push(n));
    await net.run(bob.node.ping(introducer.address));
    const codes: number[] = [];
    for (let i = 0; i < 20; i++) {
      const p = alice.node.forwardNote(introducer.address, bob.address, Buffer.from([i])).then(
        () => 0,
        (e: unknown) => (e instanceof KrpcRemoteError ? e.krpcCode : -1),
      );
      codes.push(await net.run(p));
    }
    await net.settle(100);
    const ok = codes.filter((c) => c === 0).length;
    assert.ok(ok >= 4 && ok <= 10, `forwarded ${ok} of 20`);
    assert.ok(
      codes.every((c) => c === 0 || c === 202),
      codes.join(','),
    );
    assert.equal(notes.length, ok);
    net.close();
  });

  test('a node without a note listener answers dhtchat_note like an unknown method (204)', async () => {
    const { net, introducer, alice, bob } = setup('note-no-listener');
    await net.run(bob.node.ping(introducer.address));
    await net.run(alice.node.forwardNote(introducer.address, bob.address, Buffer.from('x')));
    await net.settle(100);
    assert.equal(bob.node.stats().errorsSent['204'], 1);
    assert.equal(bob.node.stats().notes.notesIn, 0);
    net.close();
  });

  test('malformed extension queries are answered 203 and never forwarded', async () => {
    const { net, introducer } = setup('forward-malformed');
    const caller = net.raw({ host: '10.0.0.8', port: 6881 });
    const bad = Buffer.from(
      'd1:ad2:id20:aaaaaaaaaaaaaaaaaaaa4:note1:n2:to3:xyze1:q15:dhtchat_forward1:t1:x1:y1:qe',
    );
    caller.transport.send(bad, introducer.address);
    await net.settle(50);
    const d = decodeKrpc(caller.received[0]!.bytes);
    assert.ok(d.ok && d.message.kind === 'error' && d.message.code === 203);
    assert.equal(introducer.node.stats().notes.forwarded, 0);
    net.close();
  });
});
