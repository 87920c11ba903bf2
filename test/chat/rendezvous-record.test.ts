import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import {
  derivePairSecret,
  generateIdentity,
  type Identity,
  openRecord,
  RECORD_LIMITS,
  RECORD_V_BYTES,
  type RecordParties,
  type RendezvousRecord,
  recordKeyFor,
  sealRecord,
  signRecord,
} from '../../src/chat/index.ts';
import {
  decodeRecordBody,
  encodeRecordBody,
  RECORD_PLAINTEXT_BYTES,
  WANT_MAX_AGE_MS,
} from '../../src/chat/record-body.ts';
import { encodeKrpc, verifyMutableSignature } from '../../src/dht/index.ts';
import { DhtchatError, SeededRandom } from '../../src/runtime/index.ts';
import { encodeBencode } from '../../src/wire/index.ts';

const random = new SeededRandom('rendezvous-record-tests');
const EPOCH = 20_782;

function pairOf(a: Identity, b: Identity): Buffer {
  const r = derivePairSecret(a, b.publicKey);
  assert.ok(r.ok);
  return r.secret;
}

const alice = generateIdentity(random);
const bob = generateIdentity(random);
const carol = generateIdentity(random);
const kAB = pairOf(alice, bob);
const aliceToBob: RecordParties = {
  pairSecret: kAB,
  authorPk: alice.publicKey,
  readerPk: bob.publicKey,
  epoch: EPOCH,
};

const small: RendezvousRecord = {
  timestampMs: Date.UTC(2026, 10, 25, 14),
  endpoints: [
    { kind: 'public', address: { host: '203.0.113.7', port: 51413 } },
    { kind: 'lan', address: { host: '192.168.1.20', port: 51413 } },
  ],
  introducers: [{ host: '198.51.100.1', port: 6881 }],
  pendingOffline: [random.bytes(20)],
  ackedOffline: [],
  prekey: random.bytes(32),
};

/** The worst case: every list full, every address IPv6, a 13-digit timestamp. */
const largest: RendezvousRecord = {
  timestampMs: 9_999_999_999_999,
  endpoints: Array.from({ length: RECORD_LIMITS.maxEndpoints }, (_, i) => ({
    kind: (['public', 'lan', 'mapped'] as const)[i % 3] as 'public',
    address: { host: `2001:db8::${i + 1}`, port: 65535 },
  })),
  introducers: Array.from({ length: RECORD_LIMITS.maxIntroducers }, (_, i) => ({
    host: `2001:db8:1::${i + 1}`,
    port: 65535,
  })),
  pendingOffline: Array.from({ length: RECORD_LIMITS.maxPendingOffline }, () => random.bytes(20)),
  ackedOffline: Array.from({ length: RECORD_LIMITS.maxAckedOffline }, () => random.bytes(20)),
  prekey: random.bytes(32),
  natMapping: 'randomises',
  wantSinceMs: 9_999_999_999_999 - WANT_MAX_AGE_MS,
};

function asItem(parties: RecordParties, record: RendezvousRecord, seq = 7) {
  const sealed = sealRecord(parties, record, random);
  return {
    sealed,
    item: {
      v: sealed.v,
      k: sealed.key.keyPair.publicKey,
      salt: sealed.key.salt,
      seq,
      sig: signRecord(sealed, seq),
    },
  };
}

describe('rendezvous records', () => {
  test('seal/open round trip (small and largest records)', () => {
    for (const record of [small, largest, { ...small, prekey: undefined, endpoints: [], introducers: [] }]) {
      const { item } = asItem(aliceToBob, record);
      const opened = openRecord(aliceToBob, item);
      assert.ok(opened.ok, opened.ok ? '' : opened.code);
      assert.deepEqual(opened.record, record);
    }
  });

  test('every value has the same encoded size, at most 1000 (BEP 44), and the item verifies as BEP 44', () => {
    for (const record of [small, largest]) {
      const { sealed, item } = asItem(aliceToBob, record, 12345);
      assert.equal(sealed.vBytes.length, RECORD_V_BYTES);
      assert.deepEqual(sealed.vBytes, encodeBencode(sealed.v));
      assert.ok(RECORD_V_BYTES <= 1000);
      assert.ok(
        verifyMutableSignature({
          k: item.k,
          salt: item.salt,
          seq: 12345,
          vBytes: sealed.vBytes,
          sig: item.sig,
        }),
      );
    }
  });

  test('a put query and a get reply carrying the largest record fit BEP 32’s 1024 bytes', () => {
    const { sealed, item } = asItem(aliceToBob, largest, 86_400);
    const b = (n: number) => Buffer.alloc(n, 0x61);
    const put = encodeKrpc({
      kind: 'query',
      method: 'put',
      tid: b(4),
      id: b(20),
      readOnly: true,
      want: [],
      version: b(4),
      token: b(20),
      v: sealed.v,
      vBytes: sealed.vBytes,
      k: item.k,
      sig: item.sig,
      seq: 86_400,
      salt: item.salt,
    });
    const reply = encodeKrpc({
      kind: 'response',
      tid: b(4),
      id: b(20),
      yourAddress: { host: '2001:db8::1', port: 1 },
      token: b(20),
      v: sealed.v,
      k: item.k,
      sig: item.sig,
      seq: 86_400,
      version: b(4),
    });
    assert.ok(put.length <= 1024, `put is ${put.length} bytes`);
    assert.ok(reply.length <= 1024, `reply is ${reply.length} bytes`);
  });

  test('over-full records are refused locally with CHAT_RECORD_LIMIT', () => {
    const over = (patch: Partial<RendezvousRecord>) => () =>
      sealRecord(aliceToBob, { ...small, ...patch }, random);
    const isLimit = (err: unknown) => err instanceof DhtchatError && err.code === 'CHAT_RECORD_LIMIT';
    assert.throws(over({ endpoints: [...largest.endpoints, ...largest.endpoints] }), isLimit);
    assert.throws(over({ introducers: [...largest.introducers, { host: '1.2.3.4', port: 1 }] }), isLimit);
    assert.throws(over({ pendingOffline: [...largest.pendingOffline, random.bytes(20)] }), isLimit);
    assert.throws(over({ ackedOffline: [...largest.ackedOffline, random.bytes(20)] }), isLimit);
    assert.throws(over({ pendingOffline: [random.bytes(19)] }), isLimit);
    assert.throws(over({ prekey: random.bytes(31) }), isLimit);
    assert.throws(over({ timestampMs: -1 }), isLimit);
  });

  test('wrong epoch, direction, pair or key is rejected', () => {
    const { item } = asItem(aliceToBob, small);
    const bare = { v: item.v };
    // Another epoch: the key and salt differ (with k), or the AEAD fails (v alone).
    assert.equal(openRecord({ ...aliceToBob, epoch: EPOCH + 1 }, item).ok, false);
    assert.deepEqual(openRecord({ ...aliceToBob, epoch: EPOCH + 1 }, item), {
      ok: false,
      code: 'CHAT_RECORD_WRONG_KEY',
    });
    assert.deepEqual(openRecord({ ...aliceToBob, epoch: EPOCH + 1 }, bare), {
      ok: false,
      code: 'CHAT_RECORD_DECRYPT_FAILED',
    });
    // The other direction (Bob's record for Alice).
    const bobToAlice = { ...aliceToBob, authorPk: bob.publicKey, readerPk: alice.publicKey };
    assert.deepEqual(openRecord(bobToAlice, bare), { ok: false, code: 'CHAT_RECORD_DECRYPT_FAILED' });
    assert.deepEqual(openRecord(bobToAlice, item), { ok: false, code: 'CHAT_RECORD_WRONG_KEY' });
    // Another pair: Carol knows Alice's key and the epoch but not K.
    const kCA = pairOf(carol, alice);
    assert.deepEqual(openRecord({ ...aliceToBob, pairSecret: kCA }, bare), {
      ok: false,
      code: 'CHAT_RECORD_DECRYPT_FAILED',
    });
    // Same key, wrong salt.
    assert.deepEqual(openRecord(aliceToBob, { ...item, salt: random.bytes(16) }), {
      ok: false,
      code: 'CHAT_RECORD_WRONG_KEY',
    });
    // Signature over another seq.
    assert.deepEqual(openRecord(aliceToBob, { ...item, seq: 8 }), {
      ok: false,
      code: 'CHAT_RECORD_BAD_SIGNATURE',
    });
    assert.deepEqual(openRecord(aliceToBob, { ...item, seq: undefined }), {
      ok: false,
      code: 'CHAT_RECORD_BAD_SIGNATURE',
    });
  });

  test('flipping any bit of v is rejected (every byte, one bit each)', () => {
    const { sealed, item } = asItem(aliceToBob, small);
    for (let i = 0; i < item.v.length; i++) {
      const v = Buffer.from(item.v);
      v[i] = (v[i] ?? 0) ^ (1 << (i % 8));
      assert.deepEqual(
        openRecord(aliceToBob, { v }, sealed.key),
        { ok: false, code: 'CHAT_RECORD_DECRYPT_FAILED' },
        `byte ${i}`,
      );
    }
    assert.deepEqual(openRecord(aliceToBob, { v: item.v.subarray(1) }), {
      ok: false,
      code: 'CHAT_RECORD_MALFORMED',
    });
    assert.deepEqual(openRecord(aliceToBob, { v: 5 }), { ok: false, code: 'CHAT_RECORD_MALFORMED' });
    assert.deepEqual(openRecord(aliceToBob, { v: [item.v] }), { ok: false, code: 'CHAT_RECORD_MALFORMED' });
  });

  test('records of different epochs, pairs and directions are unlinkable: no shared key, salt or target', () => {
    const seen = new Map<string, string>();
    const kBC = pairOf(bob, carol);
    const cases: [string, Buffer, Buffer][] = [];
    for (let epoch = EPOCH; epoch < EPOCH + 5; epoch++) {
      cases.push([`AB/A/${epoch}`, kAB, alice.publicKey], [`AB/B/${epoch}`, kAB, bob.publicKey]);
      cases.push([`BC/B/${epoch}`, kBC, bob.publicKey], [`BC/C/${epoch}`, kBC, carol.publicKey]);
    }
    for (const [name, k, author] of cases) {
      const epoch = Number(name.split('/')[2]);
      const key = recordKeyFor(k, author, epoch);
      for (const part of [key.keyPair.publicKey, key.salt, key.target, key.encryptionKey]) {
        const hex = part.toString('hex');
        assert.equal(seen.get(hex), undefined, `${name} shares ${hex} with ${seen.get(hex)}`);
        seen.set(hex, name);
      }
      // Nothing public about either person appears in the key material.
      for (const pk of [alice.publicKey, bob.publicKey, carol.publicKey]) {
        assert.equal(
          Buffer.concat([key.keyPair.publicKey, key.salt, key.target]).indexOf(pk.subarray(0, 8)),
          -1,
        );
      }
    }
    // Both friends derive the same keys for a direction.
    assert.deepEqual(
      recordKeyFor(pairOf(bob, alice), alice.publicKey, EPOCH).target,
      recordKeyFor(kAB, alice.publicKey, EPOCH).target,
    );
  });

  test('sealing the same record twice gives different values (random nonce)', () => {
    assert.notDeepEqual(sealRecord(aliceToBob, small, random).v, sealRecord(aliceToBob, small, random).v);
  });

  test('openRecord never throws on arbitrary items (property)', () => {
    fc.assert(
      fc.property(
        fc.oneof(fc.uint8Array({ maxLength: 800 }), fc.uint8Array({ minLength: 756, maxLength: 756 })),
        fc.option(fc.uint8Array({ minLength: 32, maxLength: 32 })),
        fc.option(fc.integer()),
        (v, k, seq) => {
          const result = openRecord(aliceToBob, {
            v: Buffer.from(v),
            k: k === null ? undefined : Buffer.from(k),
            seq: seq ?? undefined,
            sig: Buffer.alloc(64),
          });
          assert.equal(result.ok, false);
        },
      ),
      { numRuns: 1000 },
    );
  });

  test('NAT mapping and wish: written compactly, read back, bounded; unknown ones are left out', () => {
    const body = (fields: Record<string, unknown>) => {
      const out = Buffer.alloc(RECORD_PLAINTEXT_BYTES);
      const bytes = encodeBencode({ t: 100_000, e: [], i: [], p: [], a: [], ...fields } as never);
      out.writeUInt16BE(bytes.length, 0);
      bytes.copy(out, 2);
      return out;
    };
    for (const natMapping of ['none', 'keeps', 'randomises'] as const) {
      const record = { ...small, natMapping, wantSinceMs: small.timestampMs - 1500 };
      assert.deepEqual(decodeRecordBody(encodeRecordBody(record) as Buffer), record);
    }
    // Unknown is not written; a wish older than WANT_MAX_AGE_MS is over, and not written either.
    const quiet = decodeRecordBody(
      encodeRecordBody({
        ...small,
        natMapping: 'unknown',
        wantSinceMs: small.timestampMs - WANT_MAX_AGE_MS - 1,
      }) as Buffer,
    );
    assert.deepEqual(quiet, small);
    // A later version's mapping code reads as unknown; a wish beyond the bound, before 1970 or negative is malformed.
    assert.equal(decodeRecordBody(body({ n: 9 }))?.natMapping, 'unknown');
    assert.equal(decodeRecordBody(body({ w: WANT_MAX_AGE_MS })) !== undefined, true);
    assert.equal(decodeRecordBody(body({ w: WANT_MAX_AGE_MS + 1 })), undefined);
    assert.equal(decodeRecordBody(body({ w: -1 })), undefined);
    assert.equal(decodeRecordBody(body({ t: 5, w: 6 })), undefined);
    assert.equal(decodeRecordBody(body({ n: Buffer.from('x') })), undefined);
    // Records of versions that listed 4 introducers are still read.
    const four = Array.from({ length: 4 }, (_, i) => Buffer.from([1, 2, 3, i, 0, 80]));
    assert.equal(decodeRecordBody(body({ i: four }))?.introducers.length, 4);
  });

  test('the body decoder rejects malformed plaintexts without throwing (seeded mutation of a valid body)', () => {
    const good = Buffer.alloc(RECORD_PLAINTEXT_BYTES);
    const body = encodeBencode({ t: 5, e: [], i: [], p: [], a: [] } as never);
    good.writeUInt16BE(body.length, 0);
    body.copy(good, 2);
    assert.ok(decodeRecordBody(good));
    const mutator = new SeededRandom('record-body-mutations');
    for (let n = 0; n < 20_000; n++) {
      const bad = Buffer.from(good);
      const flips = 1 + mutator.int(3);
      for (let f = 0; f < flips; f++) bad[mutator.int(body.length + 4)] = mutator.int(256);
      decodeRecordBody(bad);
    }
    const padded = Buffer.from(good);
    padded[RECORD_PLAINTEXT_BYTES - 1] = 1;
    assert.equal(decodeRecordBody(padded), undefined, 'non-zero padding');
    assert.equal(decodeRecordBody(good.subarray(1)), undefined, 'wrong size');
  });
});
