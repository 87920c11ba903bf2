import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, test } from 'node:test';
import { ed25519FromSeed } from '../../../src/crypto/index.ts';
import { getItemLookup } from '../../../src/dht/lookups/get-item.ts';
import { putImmutableLookup, putMutableLookup } from '../../../src/dht/lookups/put-item.ts';
import { drive, ModelNetwork } from '../../../sim/lookup-model-network.ts';

const keyPair = ed25519FromSeed(Buffer.alloc(32, 7));

describe('putImmutableLookup / putMutableLookup', () => {
  test('immutable: stored on exactly the k closest compliant nodes; get finds it and stops early', async () => {
    const net = new ModelNetwork({
      seed: 'imm',
      size: 300,
      mix: { noncompliant: 0.1, dead: 0.1, garbage: 0.03 },
    });
    const put = await drive(net.clock, putImmutableLookup(net.context(), Buffer.from('hello')));
    assert.ok(put.target.equals(createHash('sha1').update('5:hello').digest()));
    assert.equal(put.stored, 8);
    const holders = net.nodes.filter((n) => n.items.has(put.target.toString('hex')));
    assert.equal(holders.length, 8);
    assert.ok(
      holders.every((n) => n.behaviour === 'ok' || n.behaviour === 'slow' || n.behaviour === 'garbage'),
    );
    assert.ok(!holders.some((n) => n.behaviour === 'noncompliant'));
    const item = await drive(net.clock, getItemLookup(net.context(), put.target));
    assert.equal(item?.v.toString(), 'hello');
    assert.equal(item?.vBytes.toString(), '5:hello');
    assert.equal(item?.k, undefined);
  });

  test('mutable with salt: seq defaults to 1, then highest seen + 1; get returns the newest', async () => {
    const net = new ModelNetwork({ seed: 'mut', size: 300, mix: { dead: 0.1 } });
    const salt = Buffer.from('room-42');
    const first = await drive(
      net.clock,
      putMutableLookup(net.context(), { keyPair, v: Buffer.from('one'), salt }),
    );
    assert.equal(first.seq, 1);
    assert.equal(first.stored, 8);
    const second = await drive(
      net.clock,
      putMutableLookup(net.context(), { keyPair, v: Buffer.from('two'), salt }),
    );
    assert.equal(second.seq, 2);
    assert.ok(second.target.equals(first.target));
    const item = await drive(net.clock, getItemLookup(net.context(), first.target, { salt }));
    assert.equal(item?.v.toString(), 'two');
    assert.equal(item?.seq, 2);
    assert.ok(item?.k?.equals(keyPair.publicKey));
    assert.ok(item?.salt?.equals(salt));
    // Without the salt the same target does not verify.
    assert.equal(await drive(net.clock, getItemLookup(net.context(), first.target)), undefined);
  });

  test('cas mismatch (301) and seq too low (302) are counted, not thrown', async () => {
    const net = new ModelNetwork({ seed: 'cas', size: 200 });
    await drive(net.clock, putMutableLookup(net.context(), { keyPair, v: Buffer.from('a'), seq: 5 }));
    const cas = await drive(
      net.clock,
      putMutableLookup(net.context(), { keyPair, v: Buffer.from('b'), cas: 4 }),
    );
    assert.equal(cas.stored, 0);
    assert.equal(cas.outcome.errorCodes[301], 8);
    const low = await drive(
      net.clock,
      putMutableLookup(net.context(), { keyPair, v: Buffer.from('c'), seq: 3 }),
    );
    assert.equal(low.outcome.errorCodes[302], 8);
    const ok = await drive(
      net.clock,
      putMutableLookup(net.context(), { keyPair, v: Buffer.from('d'), cas: 5 }),
    );
    assert.equal(ok.stored, 8);
    assert.equal(ok.seq, 6);
  });

  test('local misuse throws typed errors before anything is sent', async () => {
    const net = new ModelNetwork({ seed: 'misuse', size: 10 });
    await assert.rejects(putImmutableLookup(net.context(), Buffer.alloc(1000)), {
      code: 'DHT_ITEM_TOO_LARGE',
    });
    await assert.rejects(putMutableLookup(net.context(), { keyPair, v: 1, salt: Buffer.alloc(65) }), {
      code: 'DHT_SALT_TOO_LARGE',
    });
    await assert.rejects(putMutableLookup(net.context(), { keyPair, v: 1, seq: -1 }), {
      code: 'DHT_BAD_SEQ',
    });
    assert.equal(net.totalSent, 0);
  });
});
