import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { decodeKrpc, encodeKrpc } from '../../src/dht/krpc-codec.ts';
import type { KrpcMessage, KrpcQuery, KrpcResponse } from '../../src/dht/krpc-message.ts';
import { SeededRandom } from '../../src/runtime/index.ts';
import { encodeBencode } from '../../src/wire/index.ts';
import { readBepVectors } from '../helpers/vectors.ts';

const examples = readBepVectors().bep5_examples_ascii;

const bytes = (s: string) => Buffer.from(s, 'latin1');
const id20 = (c: string) => Buffer.alloc(20, c);

function decodeOk(b: Buffer): KrpcMessage {
  const r = decodeKrpc(b);
  assert.ok(r.ok, `expected ok, got ${JSON.stringify(r)}`);
  return r.message;
}

function decodeFail(b: Buffer) {
  const r = decodeKrpc(b);
  assert.ok(!r.ok, 'expected a decode failure');
  return r;
}

describe('krpc-codec: BEP 5 example packets, byte-exact both ways', () => {
  for (const [name, ascii] of Object.entries(examples)) {
    test(name, () => {
      const packet = bytes(ascii);
      const message = decodeOk(packet);
      assert.equal(encodeKrpc(message).toString('latin1'), ascii);
    });
  }

  test('fields of the examples decode to the typed form', () => {
    const ping = decodeOk(bytes(examples['ping_query']!));
    assert.equal(ping.kind, 'query');
    assert.ok(ping.kind === 'query' && ping.method === 'ping');
    assert.equal(ping.tid.toString(), 'aa');
    assert.equal(ping.id.toString(), 'abcdefghij0123456789');
    const ann = decodeOk(bytes(examples['announce_peer_query']!));
    assert.ok(ann.kind === 'query' && ann.method === 'announce_peer');
    assert.equal(ann.port, 6881);
    assert.equal(ann.impliedPort, true);
    assert.equal(ann.token.toString(), 'aoeusnth');
    assert.equal(ann.infoHash.toString(), 'mnopqrstuvwxyz123456');
    const peers = decodeOk(bytes(examples['get_peers_response_values']!));
    assert.ok(peers.kind === 'response');
    assert.equal(peers.values?.length, 2);
    assert.deepEqual(peers.values?.[0], { host: '97.120.106.101', port: 11893 });
    const err = decodeOk(bytes(examples['error']!));
    assert.ok(err.kind === 'error');
    assert.equal(err.code, 201);
    assert.equal(err.message, 'A Generic Error Ocurred');
  });
});

const sampleQueries: KrpcQuery[] = [
  { kind: 'query', tid: bytes('ab'), id: id20('a'), readOnly: false, want: [], method: 'ping' },
  {
    kind: 'query',
    tid: bytes('abcd'),
    id: id20('a'),
    readOnly: true,
    want: ['n4', 'n6'],
    method: 'find_node',
    target: id20('t'),
    version: Buffer.from('DC\x00\x01', 'latin1'),
  },
  {
    kind: 'query',
    tid: bytes('x'),
    id: id20('a'),
    readOnly: false,
    want: [],
    method: 'get_peers',
    infoHash: id20('i'),
    scrape: true,
    noSeed: true,
  },
  {
    kind: 'query',
    tid: bytes('x'),
    id: id20('a'),
    readOnly: false,
    want: ['n6'],
    method: 'announce_peer',
    infoHash: id20('i'),
    port: 1,
    impliedPort: false,
    token: bytes('tok'),
    seed: true,
  },
  {
    kind: 'query',
    tid: bytes('x'),
    id: id20('a'),
    readOnly: false,
    want: [],
    method: 'get',
    target: id20('g'),
    seq: 3,
  },
  {
    kind: 'query',
    tid: bytes('x'),
    id: id20('a'),
    readOnly: false,
    want: [],
    method: 'put',
    token: bytes('tok'),
    v: bytes('hello'),
    vBytes: bytes('5:hello'),
    k: Buffer.alloc(32, 1),
    sig: Buffer.alloc(64, 2),
    seq: 4,
    cas: 3,
    salt: bytes('salt'),
  },
  {
    kind: 'query',
    tid: bytes('x'),
    id: id20('a'),
    readOnly: false,
    want: [],
    method: 'sample_infohashes',
    target: id20('s'),
  },
  {
    kind: 'query',
    tid: bytes('x'),
    id: id20('a'),
    readOnly: false,
    want: [],
    method: 'unknown',
    name: 'vote',
    target: id20('v'),
  },
];

const sampleResponse: KrpcResponse = {
  kind: 'response',
  tid: bytes('aa'),
  id: id20('r'),
  yourAddress: { host: '1.2.3.4', port: 6881 },
  nodes: [{ id: id20('n'), address: { host: '5.6.7.8', port: 1 } }],
  nodes6: [{ id: id20('m'), address: { host: 'fd00::1', port: 2 } }],
  token: bytes('token'),
  values: [
    { host: '9.9.9.9', port: 9 },
    { host: '2001:db8::1', port: 10 },
  ],
  bfsd: Buffer.alloc(256, 1),
  bfpe: Buffer.alloc(256, 2),
  v: [1, bytes('x')],
  vBytes: bytes('li1e1:xe'),
  k: Buffer.alloc(32, 3),
  sig: Buffer.alloc(64, 4),
  seq: 9,
  interval: 21600,
  num: 2,
  samples: [id20('1'), id20('2')],
  version: bytes('LT\x01\x02'),
};

describe('krpc-codec: typed round trips', () => {
  for (const q of sampleQueries) {
    test(`query ${q.method}`, () => {
      const wire = encodeKrpc(q);
      assert.deepEqual(decodeOk(wire), q);
      assert.ok(wire.length <= 1024);
    });
  }

  test('response with every field', () => {
    const wire = encodeKrpc(sampleResponse);
    assert.deepEqual(decodeOk(wire), sampleResponse);
    assert.ok(wire.includes(bytes('6:nodes6')));
    assert.ok(wire.includes(bytes('4:BFsd256:')));
    assert.ok(wire.includes(bytes('2:ip6:')));
  });

  test('error with ip and version', () => {
    const e: KrpcMessage = {
      kind: 'error',
      tid: bytes('zz'),
      code: 203,
      message: 'bad',
      yourAddress: { host: '::1', port: 5 },
      version: bytes('DC01'),
    };
    assert.deepEqual(decodeOk(encodeKrpc(e)), e);
  });

  test('ro flag is top-level 2:roi1e (BEP 43)', () => {
    const wire = encodeKrpc(sampleQueries[1]!);
    assert.ok(wire.toString('latin1').includes('2:roi1e'));
    assert.ok(!wire.toString('latin1').includes('1:ad2:ro'));
  });

  test('put vBytes is the verbatim span of v', () => {
    const v = encodeBencode(Object.assign(Object.create(null), { a: 1, b: bytes('x') }));
    const packet = bytes(
      `d1:ad2:id20:${'a'.repeat(20)}5:token3:tok1:v${v.toString('latin1')}e1:q3:put1:t2:aa1:y1:qe`,
    );
    const q = decodeOk(packet);
    assert.ok(q.kind === 'query' && q.method === 'put');
    assert.deepEqual(q.vBytes, v);
  });
});

describe('krpc-codec: strict rejection', () => {
  const q = (a: string, method = 'ping', extra = '') =>
    bytes(`d1:ad2:id20:${'a'.repeat(20)}${a}e1:q${method.length}:${method}1:t2:aa1:y1:q${extra}e`);

  test('non-bencode, non-dict, bad tid', () => {
    assert.equal(decodeFail(bytes('garbage')).code, 'KRPC_BAD_BENCODE');
    assert.equal(decodeFail(bytes('le')).code, 'KRPC_NOT_DICT');
    assert.equal(decodeFail(bytes('d1:y1:qe')).code, 'KRPC_BAD_TID');
    assert.equal(decodeFail(bytes('d1:t0:1:y1:qe')).code, 'KRPC_BAD_TID');
    assert.equal(decodeFail(bytes(`d1:t17:${'x'.repeat(17)}1:y1:qe`)).code, 'KRPC_BAD_TID');
    assert.equal(decodeFail(Buffer.alloc(2001, 0x64)).code, 'KRPC_TOO_BIG');
  });

  test('failures after the tid carry it, and say whether it was a query', () => {
    const r = decodeFail(bytes(`d1:ad2:id19:${'a'.repeat(19)}e1:q4:ping1:t2:aa1:y1:qe`));
    assert.equal(r.code, 'KRPC_BAD_ID');
    assert.equal(r.tid?.toString(), 'aa');
    assert.equal(r.isQuery, true);
    const resp = decodeFail(bytes('d1:rd2:id3:abce1:t2:bb1:y1:re'));
    assert.equal(resp.isQuery, false);
    assert.equal(resp.tid?.toString(), 'bb');
    const noY = decodeFail(bytes(`d1:ad2:id20:${'a'.repeat(20)}e1:q4:ping1:t2:aae`));
    assert.equal(noY.code, 'KRPC_BAD_TYPE');
    assert.equal(noY.isQuery, true);
  });

  test('field types and lengths', () => {
    assert.equal(decodeFail(q('6:target19:' + 't'.repeat(19), 'find_node')).field, 'target');
    assert.equal(decodeFail(q('', 'find_node')).code, 'KRPC_MISSING_FIELD');
    assert.equal(decodeFail(q('9:info_hashi5e', 'get_peers')).field, 'info_hash');
    const ih = `9:info_hash20:${'i'.repeat(20)}`;
    assert.equal(decodeFail(q(`${ih}4:porti0e5:token1:x`, 'announce_peer')).field, 'port');
    assert.equal(decodeFail(q(`${ih}4:porti65536e5:token1:x`, 'announce_peer')).field, 'port');
    assert.equal(decodeFail(q(`${ih}4:porti5e`, 'announce_peer')).field, 'token');
    assert.equal(decodeFail(q(`${ih}4:porti5e5:token65:${'x'.repeat(65)}`, 'announce_peer')).field, 'token');
    // implied_port makes port 0 acceptable
    const ok = decodeOk(q(`12:implied_porti1e${ih}4:porti0e5:token1:x`, 'announce_peer'));
    assert.ok(ok.kind === 'query' && ok.method === 'announce_peer' && ok.impliedPort);
    assert.equal(decodeFail(q('4:wanti1e')).field, 'want');
    assert.equal(decodeFail(bytes('d1:a0:1:q4:ping1:t2:aa1:y1:qe')).code, 'KRPC_BAD_ARGUMENTS');
    assert.equal(decodeFail(bytes('d1:ali1ee1:q4:ping1:t2:aa1:y1:qe')).code, 'KRPC_BAD_ARGUMENTS');
  });

  test('put: k/sig lengths and dependent fields', () => {
    const base = '5:token1:x1:v1:x';
    assert.equal(decodeFail(q(`1:k31:${'k'.repeat(31)}${base}`, 'put')).field, 'k');
    assert.equal(
      decodeFail(q(`1:k32:${'k'.repeat(32)}3:seqi1e3:sig63:${'s'.repeat(63)}${base}`, 'put')).field,
      'sig',
    );
    assert.equal(decodeFail(q(`1:k32:${'k'.repeat(32)}${base}`, 'put')).code, 'KRPC_MISSING_FIELD');
    assert.equal(decodeFail(q(`3:sig64:${'s'.repeat(64)}${base}`, 'put')).field, 'k');
    assert.equal(
      decodeFail(q(`1:k32:${'k'.repeat(32)}3:seqi-1e3:sig64:${'s'.repeat(64)}${base}`, 'put')).field,
      'seq',
    );
    assert.equal(decodeFail(q('5:token1:x', 'put')).field, 'v');
  });

  test('response: nodes of a bad length, values entries of the wrong size are skipped', () => {
    const r = (body: string) => bytes(`d1:rd2:id20:${'r'.repeat(20)}${body}e1:t2:aa1:y1:re`);
    assert.equal(decodeFail(r('5:nodes25:' + 'n'.repeat(25))).field, 'nodes');
    assert.equal(decodeFail(r('6:nodes626:' + 'n'.repeat(26))).field, 'nodes6');
    const m = decodeOk(r('6:valuesl5:abcde6:abcdefi3ee'));
    assert.ok(m.kind === 'response');
    assert.equal(m.values?.length, 1);
    assert.equal(decodeFail(r('7:samples19:' + 's'.repeat(19))).field, 'samples');
  });

  test('malformed informational fields are ignored', () => {
    const m = decodeOk(bytes(`d2:ip3:abc1:rd2:id20:${'r'.repeat(20)}e1:t2:aa1:vi5e1:y1:re`));
    assert.ok(m.kind === 'response');
    assert.equal(m.yourAddress, undefined);
    assert.equal(m.version, undefined);
  });

  test('error with a non-integer code is rejected', () => {
    assert.equal(decodeFail(bytes('d1:el3:abce1:t2:aa1:y1:ee')).code, 'KRPC_BAD_ERROR');
    assert.equal(decodeFail(bytes('d1:e3:abc1:t2:aa1:y1:ee')).code, 'KRPC_BAD_ERROR');
  });
});

describe('krpc-codec: fuzz', () => {
  test('random bytes never throw (fast-check)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (arr) => {
        const r = decodeKrpc(arr);
        assert.equal(typeof r.ok, 'boolean');
      }),
      { numRuns: 3000, seed: 42 },
    );
  });

  test('mutated valid packets never throw, and what decodes re-encodes to something decodable', () => {
    const random = new SeededRandom('krpc-fuzz');
    const seeds = [
      ...Object.values(examples).map(bytes),
      ...sampleQueries.map(encodeKrpc),
      encodeKrpc(sampleResponse),
    ];
    let decoded = 0;
    for (let i = 0; i < 20_000; i++) {
      const packet = Buffer.from(seeds[random.int(seeds.length)]!);
      const edits = 1 + random.int(4);
      for (let e = 0; e < edits; e++) packet[random.int(packet.length)] = random.int(256);
      const r = decodeKrpc(packet);
      if (r.ok) {
        decoded++;
        assert.ok(decodeKrpc(encodeKrpc(r.message)).ok, `seed krpc-fuzz iteration ${i}`);
      }
    }
    assert.ok(decoded > 0);
  });
});
