import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { encodeBencode } from '../../../src/wire/index.ts';
import {
  bundleFits,
  decodeBundlePlaintext,
  MAX_BUNDLE_CONTENT_BYTES,
  openGroupBundle,
  sealGroupBundle,
} from '../../../src/chat/groups/group-bundle.ts';
import {
  decodeGroupRecordBody,
  GROUP_RECORD_BODY_BYTES,
  GROUP_RECORD_V_BYTES,
  groupRecordKey,
  openGroupRecord,
  sealGroupRecord,
} from '../../../src/chat/groups/group-record.ts';
import { OFFLINE_PART_V_BYTES } from '../../../src/chat/offline-parts.ts';
import { SeededRandom } from '../../../src/runtime/index.ts';

const random = new SeededRandom('group-mailbox-codecs');
const secret = Buffer.alloc(32, 3);
const author = Buffer.alloc(32, 4);

describe('group records', () => {
  test('seal and open: fixed size, bound to secret, author and day', () => {
    const key = groupRecordKey(secret, author, 20_000);
    const record = {
      timestampMs: 1_700_000_000_000,
      endpoints: [
        { host: '127.0.0.1', port: 7001 },
        { host: '::1', port: 7002 },
      ],
      bundles: [Buffer.alloc(20, 1), Buffer.alloc(20, 2)],
    };
    const v = sealGroupRecord(key, record, random);
    assert.equal(v.length, GROUP_RECORD_V_BYTES);
    assert.ok(encodeBencode(v).length <= 1000, 'fits a BEP 44 item');
    assert.deepEqual(openGroupRecord(key, { v, k: key.keyPair.publicKey }), record);
    assert.equal(openGroupRecord(groupRecordKey(secret, author, 20_001), { v }), undefined, 'another day');
    assert.equal(
      openGroupRecord(groupRecordKey(Buffer.alloc(32, 9), author, 20_000), { v }),
      undefined,
      'another epoch',
    );
    assert.equal(
      openGroupRecord(groupRecordKey(secret, Buffer.alloc(32, 5), 20_000), { v }),
      undefined,
      'another author',
    );
    assert.equal(openGroupRecord(key, { v, k: Buffer.alloc(32) }), undefined, 'another signing key');
    const empty = sealGroupRecord(key, { timestampMs: 0, endpoints: [], bundles: [] }, random);
    assert.equal(empty.length, GROUP_RECORD_V_BYTES, 'size says nothing');
    assert.throws(
      () => sealGroupRecord(key, { ...record, bundles: Array(17).fill(Buffer.alloc(20)) }, random),
      RangeError,
    );
  });

  test('the body decoder is strict', () => {
    const body = Buffer.alloc(GROUP_RECORD_BODY_BYTES);
    assert.deepEqual(decodeGroupRecordBody(body), { timestampMs: 0, endpoints: [], bundles: [] });
    const trailing = Buffer.from(body);
    trailing[100] = 1;
    assert.equal(decodeGroupRecordBody(trailing), undefined);
    const manyEndpoints = Buffer.from(body);
    manyEndpoints[8] = 5;
    assert.equal(decodeGroupRecordBody(manyEndpoints), undefined);
    const badSize = Buffer.from(body);
    badSize[8] = 1;
    badSize[9] = 7;
    assert.equal(decodeGroupRecordBody(badSize), undefined);
    assert.equal(decodeGroupRecordBody(body.subarray(1)), undefined);
  });
});

describe('group bundles', () => {
  test('seal and open: parts like offline items; only the epoch secret and author open them', () => {
    const entries = [Buffer.alloc(300, 1), Buffer.alloc(5000, 2), Buffer.alloc(17_000, 3)];
    assert.equal(bundleFits(entries), 2, 'the third does not fit with the first two');
    const sealed = sealGroupBundle(secret, author, entries.slice(0, 2), random);
    assert.ok(sealed.parts.every((p) => encodeBencode(p.v).length === OFFLINE_PART_V_BYTES));
    const [head, ...tails] = sealed.parts.map((p) => p.v);
    const opened = openGroupBundle(secret, author, sealed.headTarget, head as Buffer, tails.reverse());
    assert.ok(opened.ok);
    assert.deepEqual(opened.entries, entries.slice(0, 2));
    const wrong = openGroupBundle(Buffer.alloc(32, 8), author, sealed.headTarget, head as Buffer, tails);
    assert.deepEqual(wrong, { ok: false, code: 'CHAT_GROUP_BUNDLE_DECRYPT_FAILED' });
    const missing = openGroupBundle(secret, author, sealed.headTarget, head as Buffer, []);
    assert.equal(missing.ok, false);
    assert.equal(!missing.ok && missing.code, 'CHAT_GROUP_BUNDLE_MISSING_PART');
    const alone = sealGroupBundle(secret, author, entries.slice(2), random);
    assert.ok(alone.parts.length <= 24);
    assert.throws(() => sealGroupBundle(secret, author, entries, random), RangeError);
  });

  test('the plaintext decoder is strict', () => {
    const ok = Buffer.alloc(64);
    ok.writeUInt16BE(1, 0);
    ok.writeUInt32BE(3, 2);
    ok.write('abc', 6);
    assert.deepEqual(decodeBundlePlaintext(ok), [Buffer.from('abc')]);
    const padding = Buffer.from(ok);
    padding[40] = 1;
    assert.equal(decodeBundlePlaintext(padding), undefined);
    const long = Buffer.from(ok);
    long.writeUInt32BE(MAX_BUNDLE_CONTENT_BYTES, 2);
    assert.equal(decodeBundlePlaintext(long), undefined);
    const zero = Buffer.from(ok);
    zero.writeUInt16BE(0, 0);
    assert.equal(decodeBundlePlaintext(zero), undefined);
  });
});
