/** A file offered to a group: its plaintext layout (content type 2), strict decoding, and sealing inside a message. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  CONTENT_FILE_OFFER,
  decodeFileOfferPlaintext,
  encodeFileOfferPlaintext,
  type GroupFileOffer,
} from '../../../src/chat/groups/group-file-offer.ts';
import { writeCreate, writeMessage } from '../../../src/chat/groups/group-authoring.ts';
import { decodeEntry } from '../../../src/chat/groups/group-entry.ts';
import {
  decodeContent,
  decodeMessageBody,
  openMessageBody,
  openMessageContent,
} from '../../../src/chat/groups/group-message-seal.ts';
import { SeededRandom } from '../../../src/runtime/index.ts';
import { person } from './group-fixtures.ts';

const OFFER: GroupFileOffer = {
  transferId: Buffer.alloc(16, 0xab),
  sizeBytes: 3 * 1024 * 1024 + 5,
  pieceBytes: 256 * 1024,
  root: Buffer.alloc(32, 0xcd),
  name: 'réunion.pdf',
};

describe('group file offers', () => {
  test('round trip; padded to 64 bytes; the content decoder tells a text from an offer', () => {
    const plaintext = encodeFileOfferPlaintext(OFFER);
    assert.equal(plaintext.length % 64, 0);
    assert.equal(plaintext[0], CONTENT_FILE_OFFER);
    assert.deepEqual(decodeFileOfferPlaintext(plaintext), OFFER);
    assert.deepEqual(decodeContent(plaintext), { type: 'file-offer', offer: OFFER });
    const text = Buffer.alloc(64);
    text[0] = 1;
    text.writeUInt16BE(2, 1);
    text.write('hi', 3);
    assert.deepEqual(decodeContent(text), { type: 'text', text: 'hi' });
    assert.equal(decodeFileOfferPlaintext(text), undefined);
  });

  test('strict: a bad layout, name, padding or length is no offer', () => {
    const good = encodeFileOfferPlaintext(OFFER);
    const nameAt = 1 + 16 + 8 + 4 + 32;
    const bad: Array<[string, Buffer]> = [];
    const cut = (b: Buffer) => b.subarray(0, 63);
    bad.push(['short', cut(good)]);
    const trailing = Buffer.from(good);
    trailing[trailing.length - 1] = 1;
    bad.push(['non-zero padding', trailing]);
    const piece = Buffer.from(good);
    piece.writeUInt32BE(300_000, 1 + 16 + 8);
    bad.push(['a piece length no sender picks', piece]);
    const huge = Buffer.from(good);
    huge.writeBigUInt64BE(2n ** 60n, 1 + 16);
    bad.push(['a size past every layout', huge]);
    const noName = Buffer.from(good);
    noName.writeUInt16BE(0, nameAt);
    bad.push(['an empty name', noName]);
    const longName = Buffer.from(good);
    longName.writeUInt16BE(201, nameAt);
    bad.push(['a name over 200 bytes', longName]);
    const pastEnd = Buffer.from(good);
    pastEnd.writeUInt16BE(good.length, nameAt);
    bad.push(['a name past the end', pastEnd]);
    const badUtf8 = Buffer.from(good);
    badUtf8[nameAt + 2] = 0xff;
    bad.push(['invalid UTF-8', badUtf8]);
    for (const [why, bytes] of bad) {
      assert.equal(decodeFileOfferPlaintext(bytes), undefined, why);
      assert.equal(decodeContent(bytes), undefined, why);
    }
    assert.throws(() => encodeFileOfferPlaintext({ ...OFFER, name: '' }), RangeError);
    assert.throws(() => encodeFileOfferPlaintext({ ...OFFER, pieceBytes: 1000 }), RangeError);
  });

  test("a content type a later version writes decodes as unknown (kept, not shown); a malformed one doesn't", () => {
    const later = Buffer.alloc(128);
    later[0] = 9;
    assert.deepEqual(decodeContent(later), { type: 'unknown', contentType: 9 });
    assert.equal(decodeContent(later.subarray(0, 100)), undefined, 'not padded to 64 bytes');
    assert.equal(decodeContent(Buffer.alloc(0)), undefined, 'empty');
    const badText = Buffer.alloc(64);
    badText[0] = 1; // a text of length 0
    assert.equal(decodeContent(badText), undefined, 'a known type must be well formed');
  });

  test('sealed in a signed group message: opens as an offer (and as no text)', () => {
    const alice = person(1);
    const ctx = { identity: alice, random: new SeededRandom('offer'), nowMs: 1_700_000_000_000 };
    const { groupId, entry: create, epochKey } = writeCreate(ctx, 'club');
    const entry = writeMessage(
      ctx,
      { groupId, seq: 2, parents: [{ hash: create.hash, lamport: create.lamport }] },
      { epoch: create.hash, step: 0, stepKey: epochKey },
      { type: 'file-offer', offer: OFFER },
    );
    const decoded = decodeEntry(entry.bytes);
    assert.ok(decoded.ok);
    const body = decodeMessageBody(decoded.entry.body);
    assert.ok(body !== undefined);
    const opts = {
      entryHeader: entry.bytes.subarray(0, decoded.entry.bodyOffset),
      groupId,
      author: alice.publicKey,
      body,
      stepKey: epochKey,
    };
    assert.deepEqual(openMessageContent(opts), { type: 'file-offer', offer: OFFER });
    assert.equal(openMessageBody(opts), undefined);
    assert.equal(
      openMessageContent({ ...opts, author: person(2).publicKey }),
      undefined,
      'bound to its author',
    );
  });
});
