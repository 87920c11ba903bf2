/**
 * decodeKrpc (src/dht: the one-pass scanner with the generic decoder behind it). Properties: never throws; the
 * scanner and the generic decoder agree (same verdict, same message — what the scanner accepts must be exactly
 * what the reference decoder makes of it); an accepted message survives encodeKrpc → decodeKrpc unchanged.
 */
import assert from 'node:assert/strict';
import { decodeKrpc, encodeKrpc, KrpcDecodeCode, type KrpcMessage } from '../../../src/dht/index.ts';
import { decodeKrpcGeneric } from '../../../src/dht/krpc-decode.ts';
import type { FuzzRandom } from '../fuzz-random.ts';
import { type FuzzTarget, tokens } from '../fuzz-target.ts';

const KNOWN_CODES = new Set<string>(Object.values(KrpcDecodeCode));

export const krpcTarget: FuzzTarget = {
  name: 'krpc',
  decoders: 'decodeKrpc (krpc-scan + krpc-decode), encodeKrpc',
  weight: 8,
  maxInputBytes: 2100,
  dictionary: tokens(
    '1:t',
    '1:y',
    '1:q',
    '1:r',
    '1:e',
    '1:a',
    '2:id',
    '6:target',
    '9:info_hash',
    '5:token',
    '5:nodes',
    '6:nodes6',
    '6:values',
    '4:want',
    '2:n4',
    '2:n6',
    '4:port',
    '12:implied_port',
    '4:BFsd',
    '4:BFpe',
    '1:v',
    '1:k',
    '3:sig',
    '3:seq',
    '3:cas',
    '4:salt',
    '8:interval',
    '3:num',
    '7:samples',
    '2:ip',
    '2:ro',
    '4:ping',
    '9:find_node',
    '9:get_peers',
    '13:announce_peer',
    '3:get',
    '3:put',
    '17:sample_infohashes',
    '15:dhtchat_forward',
    '12:dhtchat_note',
    '2:to',
    '4:from',
    '4:note',
    '4:seed',
    '6:noseed',
    '6:scrape',
    'i1e',
    'i0e',
    'i-1e',
    '20:',
    '26:',
  ),
  seeds(random: FuzzRandom): Buffer[] {
    const id = () => random.bytes(20);
    const tid = Buffer.from('aa');
    const base = { kind: 'query' as const, tid, id: id(), readOnly: false, want: [] as const };
    const node = (i: number) => ({ id: id(), address: { host: `10.0.0.${i}`, port: 6881 + i } });
    const node6 = (i: number) => ({ id: id(), address: { host: `2001:db8::${i}`, port: 6881 + i } });
    const messages: KrpcMessage[] = [
      { ...base, method: 'ping' },
      { ...base, method: 'find_node', target: id(), want: ['n4', 'n6'] },
      { ...base, method: 'get_peers', infoHash: id(), scrape: true, noSeed: false },
      {
        ...base,
        method: 'announce_peer',
        infoHash: id(),
        port: 6881,
        impliedPort: true,
        token: random.bytes(8),
        seed: true,
      },
      { ...base, method: 'get', target: id(), seq: 4 },
      {
        ...base,
        method: 'put',
        token: random.bytes(8),
        v: Buffer.from('hello'),
        vBytes: Buffer.from('5:hello'),
        k: random.bytes(32),
        sig: random.bytes(64),
        seq: 9,
        cas: 8,
        salt: random.bytes(16),
      },
      { ...base, method: 'sample_infohashes', target: id(), readOnly: true },
      { ...base, method: 'dhtchat_forward', to: { host: '10.1.2.3', port: 4 }, note: random.bytes(43) },
      { ...base, method: 'dhtchat_note', from: { host: '2001:db8::7', port: 9 }, note: random.bytes(43) },
      {
        kind: 'response',
        tid,
        id: id(),
        yourAddress: { host: '1.2.3.4', port: 5 },
        version: Buffer.from('DC\x00\x01', 'latin1'),
        nodes: [1, 2, 3].map(node),
        nodes6: [1, 2].map(node6),
        token: random.bytes(8),
        values: [
          { host: '10.9.9.9', port: 1 },
          { host: '2001:db8::9', port: 2 },
        ],
      },
      {
        kind: 'response',
        tid,
        id: id(),
        v: Buffer.from('item'),
        k: random.bytes(32),
        sig: random.bytes(64),
        seq: 3,
        token: random.bytes(20),
      },
      {
        kind: 'response',
        tid,
        id: id(),
        samples: [id(), id()],
        interval: 60,
        num: 100,
        bfsd: random.bytes(256),
      },
      { kind: 'error', tid, code: 203, message: 'invalid message', yourAddress: { host: '::1', port: 3 } },
    ];
    return messages.map((m) => encodeKrpc(m));
  },
  run(input: Buffer): string {
    const r = decodeKrpc(input);
    const generic = decodeKrpcGeneric(input);
    assert.equal(r.ok, generic.ok, 'the scanner and the generic decoder agree on the verdict');
    if (!r.ok) {
      assert.ok(KNOWN_CODES.has(r.code), `unknown code ${r.code}`);
      return `reject:${r.code}:${r.field ?? ''}:${r.isQuery}`;
    }
    assert.ok(generic.ok);
    // Compared through their encodings (the typed messages' canonical form): as strict as a deep comparison of
    // the fields the encoder writes, and ~5x faster.
    const encoded = encodeKrpc(r.message);
    assert.ok(
      encoded.equals(encodeKrpc(generic.message)),
      'the scanner and the generic decoder make the same message',
    );
    const again = decodeKrpc(encoded);
    assert.ok(again.ok, 'an accepted message re-encodes to something we accept');
    assert.ok(encodeKrpc(again.message).equals(encoded), 'decode(encode(m)) == m');
    const m = r.message;
    const method = m.kind === 'query' ? m.method : '';
    return `ok:${m.kind}:${method}:${Object.keys(m).sort().join(',')}`;
  },
};
