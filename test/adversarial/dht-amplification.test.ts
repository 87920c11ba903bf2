/**
 * Issue 10 §5 and §6 against a real daemon's socket (the victim scene): raw KRPC from loopback addresses that
 * never proved they receive gets at most 3× its bytes back, in every reply type — and an 85-byte `get` of a stored
 * 880-byte item no longer comes back as 976 bytes (×11.5); items as big as BEP 44 allows (v of 930 and 1000 bytes,
 * a 64-byte salt) are accepted and then served whole to an address that answered the daemon's ping.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { ed25519FromSeed, ed25519Sign } from '../../src/crypto/index.ts';
import {
  encodeKrpc,
  immutableTarget,
  type KrpcQuery,
  type KrpcResponse,
  mutableTarget,
  signableBuffer,
} from '../../src/dht/index.ts';
import { encodeBencode } from '../../src/wire/index.ts';
import { KrpcSocket } from './krpc-socket.ts';
import { startVictimScene, type VictimScene } from './victim.ts';

const AMPLIFICATION = 3;
const MAX_ITEM_PACKET_BYTES = 1452;

let scene: VictimScene;
let nextHost = 1;
let nextTid = 1;
const sockets: KrpcSocket[] = [];

/** A fresh socket on its own loopback address (127.1.0.x): a new, unverified source. */
async function source(opts: { answerPings?: boolean } = {}): Promise<KrpcSocket> {
  const socket = await KrpcSocket.open(`127.1.0.${nextHost++}`, opts);
  sockets.push(socket);
  return socket;
}

/** A query's own fields (the method's), for each method. */
type QueryFields = KrpcQuery extends infer Q
  ? Q extends KrpcQuery
    ? Omit<Q, 'kind' | 'tid' | 'id' | 'readOnly' | 'want'> & { want?: KrpcQuery['want'] }
    : never
  : never;

function query(fields: QueryFields, tidBytes = 2): { bytes: Buffer; tid: Buffer } {
  const tid = Buffer.alloc(tidBytes);
  tid.writeUIntBE(nextTid++ % 256 ** tidBytes, 0, tidBytes);
  const q = {
    kind: 'query',
    tid,
    id: Buffer.alloc(20, 0x61),
    readOnly: false,
    want: [],
    ...fields,
  } as KrpcQuery;
  return { bytes: encodeKrpc(q), tid };
}

async function ask(from: KrpcSocket, fields: QueryFields, tidBytes = 2) {
  const { bytes, tid } = query(fields, tidBytes);
  const reply = await from.ask(bytes, tid, scene.alice.port);
  return { queryBytes: bytes.length, reply };
}

async function response(from: KrpcSocket, fields: QueryFields): Promise<KrpcResponse> {
  const { reply } = await ask(from, fields);
  assert.ok(reply, `no answer to ${fields.method}`);
  assert.equal(reply.message.kind, 'response', `${fields.method}: ${JSON.stringify(reply.message)}`);
  return reply.message as KrpcResponse;
}

/** A byte string whose bencoding is exactly n bytes. */
function vOfEncodedBytes(n: number, fill: number): Buffer {
  let length = n - 2;
  while (length + String(length).length + 1 > n) length--;
  return Buffer.alloc(length, fill);
}

before(async () => {
  scene = await startVictimScene();
});

after(async () => {
  for (const s of sockets) s.close();
  await scene?.stop();
});

describe('DHT replies to a real daemon: never amplified, every accepted item servable', () => {
  test('§5: an 85-byte get of a stored 880-byte item gets at most 255 bytes back (the item withheld)', async () => {
    const v = vOfEncodedBytes(880, 0x41);
    const target = immutableTarget(encodeBencode(v));
    const putter = await source();
    const { token } = await response(putter, { method: 'get', target });
    assert.ok(token);
    await response(putter, { method: 'put', token, v, vBytes: encodeBencode(v) });

    const attacker = await source();
    const { queryBytes, reply } = await ask(attacker, { method: 'get', target }, 1);
    assert.equal(queryBytes, 85);
    assert.ok(reply, 'the daemon answered');
    assert.ok(
      reply.bytes.length <= 3 * queryBytes,
      `${reply.bytes.length} bytes for an ${queryBytes}-byte get`,
    );
    assert.equal(reply.message.kind, 'response');
    const r = reply.message as KrpcResponse;
    assert.equal(r.v, undefined, 'no item to an address that has not proven it receives');
    assert.ok(r.token !== undefined, 'a token all the same: a put can go on');

    // The putter echoed a token bound to its address: it is verified, and gets the item whole.
    const again = await response(putter, { method: 'get', target });
    assert.deepEqual(again.v, v);
  });

  for (const encodedBytes of [930, 1000]) {
    test(`§6: a mutable v of ${encodedBytes} bytes with a 64-byte salt is accepted and then served`, async () => {
      const keyPair = ed25519FromSeed(Buffer.alloc(32, encodedBytes & 0xff));
      const salt = Buffer.alloc(64, 0x73);
      const v = vOfEncodedBytes(encodedBytes, 0x76);
      const vBytes = encodeBencode(v);
      assert.equal(vBytes.length, encodedBytes);
      const target = mutableTarget(keyPair.publicKey, salt);
      const reader = await source({ answerPings: true });
      const { token } = await response(reader, { method: 'get', target });
      assert.ok(token);
      const seq = 5;
      const sig = ed25519Sign(keyPair, signableBuffer({ salt, seq, vBytes }));
      const { bytes: putBytes, tid } = query({
        method: 'put',
        token,
        v,
        vBytes,
        k: keyPair.publicKey,
        sig,
        seq,
        salt,
      });
      const put = await reader.ask(putBytes, tid, scene.alice.port);
      assert.equal(put?.message.kind, 'response', `put answered ${JSON.stringify(put?.message)}`);

      const { reply } = await ask(reader, { method: 'get', target });
      assert.ok(reply, `the get reply for a stored ${encodedBytes}-byte v was not sent`);
      assert.ok(reply.bytes.length <= MAX_ITEM_PACKET_BYTES, `${reply.bytes.length} bytes`);
      const r = reply.message as KrpcResponse;
      assert.deepEqual([r.v, r.seq, r.k, r.sig], [v, seq, keyPair.publicKey, sig]);
    });
  }

  test('every reply type to an unverified source is at most 3× the query', async () => {
    const stored = immutableTarget(encodeBencode(vOfEncodedBytes(880, 0x41)));
    const cases: Array<{ name: string; fields: QueryFields }> = [
      { name: 'ping', fields: { method: 'ping' } },
      { name: 'find_node', fields: { method: 'find_node', target: Buffer.alloc(20, 1), want: ['n4', 'n6'] } },
      {
        name: 'get_peers',
        fields: {
          method: 'get_peers',
          infoHash: Buffer.alloc(20, 2),
          scrape: false,
          noSeed: false,
          want: ['n4', 'n6'],
        },
      },
      { name: 'get (stored item)', fields: { method: 'get', target: stored, want: ['n4', 'n6'] } },
      { name: 'get (nothing)', fields: { method: 'get', target: Buffer.alloc(20, 3) } },
      {
        name: 'sample_infohashes',
        fields: { method: 'sample_infohashes', target: Buffer.alloc(20, 4), want: ['n4', 'n6'] },
      },
      {
        name: 'unknown method',
        fields: { method: 'unknown', name: 'vote', target: Buffer.alloc(20, 5) } as QueryFields,
      },
      {
        name: 'announce_peer, bad token',
        fields: {
          method: 'announce_peer',
          infoHash: Buffer.alloc(20, 6),
          port: 1,
          impliedPort: false,
          token: Buffer.alloc(4),
          seed: false,
        },
      },
      {
        name: 'dhtchat_forward',
        fields: { method: 'dhtchat_forward', to: { host: '127.0.0.1', port: 9 }, note: Buffer.alloc(0) },
      },
    ];
    for (const { name, fields } of cases) {
      for (const tidBytes of [1, 2, 4]) {
        const from = await source();
        const { queryBytes, reply } = await ask(from, fields, tidBytes);
        assert.ok(reply, `${name}: answered`);
        assert.ok(
          reply.bytes.length <= AMPLIFICATION * queryBytes,
          `${name}: ${reply.bytes.length} bytes for ${queryBytes}`,
        );
      }
    }
    // A malformed query is answered 203 within the same budget.
    const from = await source();
    const garbage = Buffer.from('d1:ad2:id3:abce1:q4:ping1:t2:zz1:y1:qe');
    const reply = await from.ask(garbage, Buffer.from('zz'), scene.alice.port);
    assert.ok(reply && reply.message.kind === 'error' && reply.message.code === 203);
    assert.ok(reply.bytes.length <= AMPLIFICATION * garbage.length);
  });
});
