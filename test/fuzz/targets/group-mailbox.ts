/**
 * A group's DHT mailbox (src/chat/groups/group-record.ts, group-bundle.ts): the first input byte picks
 *   0  decodeGroupRecordBody: an opened record (endpoints, bundle heads, zero padding), fixed 480 bytes
 *   1  decodeBundlePlaintext: the entries inside an opened bundle
 * Properties: never throws; what decodes re-encodes to exactly its bytes; lists within their limits.
 */
import assert from 'node:assert/strict';
import { decodeBundlePlaintext, MAX_BUNDLE_ENTRIES } from '../../../src/chat/groups/group-bundle.ts';
import {
  decodeGroupRecordBody,
  encodeGroupRecordBody,
  GROUP_RECORD_BODY_BYTES,
  MAX_RECORD_BUNDLES,
  MAX_RECORD_ENDPOINTS,
} from '../../../src/chat/groups/group-record.ts';
import type { FuzzRandom } from '../fuzz-random.ts';
import type { FuzzTarget } from '../fuzz-target.ts';

function plaintextOf(entries: readonly Buffer[], padBytes: number): Buffer {
  const count = Buffer.alloc(2);
  count.writeUInt16BE(entries.length);
  const parts = entries.flatMap((e) => {
    const length = Buffer.alloc(4);
    length.writeUInt32BE(e.length);
    return [length, e];
  });
  return Buffer.concat([count, ...parts, Buffer.alloc(padBytes)]);
}

export const groupMailboxTarget: FuzzTarget = {
  name: 'group-mailbox',
  decoders: 'decodeGroupRecordBody, decodeBundlePlaintext',
  weight: 4,
  maxInputBytes: 2048,
  dictionary: [
    Buffer.of(0),
    Buffer.of(4),
    Buffer.of(5),
    Buffer.of(6),
    Buffer.of(16),
    Buffer.of(17),
    Buffer.of(18),
    Buffer.alloc(4),
  ],
  seeds(random: FuzzRandom): Buffer[] {
    const record = encodeGroupRecordBody({
      timestampMs: 1_700_000_000_000,
      endpoints: [{ host: '127.0.0.1', port: 7001 }],
      bundles: [random.bytes(20), random.bytes(20)],
    });
    return [
      Buffer.concat([Buffer.of(0), record]),
      Buffer.concat([Buffer.of(1), plaintextOf([random.bytes(120), random.bytes(7)], 40)]),
    ];
  },
  run(input: Buffer): string {
    const rest = input.subarray(1);
    if ((input[0] ?? 0) % 2 === 0) {
      // The body is fixed-size: fit the input to it, so mutations reach the fields rather than the length check.
      const body = Buffer.alloc(GROUP_RECORD_BODY_BYTES);
      rest.copy(body);
      const record = decodeGroupRecordBody(body);
      if (record === undefined) return 'record:reject';
      assert.ok(
        record.endpoints.length <= MAX_RECORD_ENDPOINTS && record.bundles.length <= MAX_RECORD_BUNDLES,
      );
      assert.ok(encodeGroupRecordBody(record).equals(body), 'a record body re-encodes to its bytes');
      return `record:ok:${record.endpoints.length}:${Math.min(record.bundles.length, 2)}`;
    }
    const entries = decodeBundlePlaintext(rest);
    if (entries === undefined) return 'bundle:reject';
    assert.ok(entries.length >= 1 && entries.length <= MAX_BUNDLE_ENTRIES);
    const used = plaintextOf(entries, 0).length;
    assert.ok(
      plaintextOf(entries, rest.length - used).equals(rest),
      'a bundle plaintext re-encodes to its bytes',
    );
    return `bundle:ok:${Math.min(entries.length, 3)}`;
  },
};
