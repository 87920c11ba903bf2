/**
 * Fuzz target: the backup decoders (src/chat/backup-*.ts). A backup is opened by its owner, but it may have been
 * damaged or edited; random bytes and mutations of valid sections, payloads and files must never throw anything
 * but a DhtchatError, and a mutated store section that still decodes must hold only rows its columns allow.
 * Properties from fast-check (seed printed on failure; FUZZ_SEED to replay).
 *
 *   store section — random bytes; mutations (bit flips, byte sets, cuts, inserts) of a section with every table
 *   payload       — random bytes; mutations of a valid payload (the store section nested inside)
 *   file          — random bytes and mutations of a sealed file, with a cheap scrypt
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import {
  BACKUP_TABLES,
  type BackupRow,
  decodeBackupPayload,
  decodeBackupStore,
  encodeBackupPayload,
  encodeBackupStore,
  generateIdentity,
  looksLikeBackup,
  openBackup,
  sealBackup,
} from '../../src/chat/index.ts';
import { DhtchatError, SeededRandom } from '../../src/runtime/index.ts';

const SEED = Number(process.env['FUZZ_SEED'] ?? 20261209);
const random = new SeededRandom('backup-fuzz');
const identity = generateIdentity(random);
const KEY = Buffer.alloc(32, 0xb0);

/** One row per table, each value valid for its column. */
const ROWS: BackupRow[] = [
  [
    'contacts',
    { public_key: KEY, name: 'bob', state: 'accepted', created_ms: 1, updated_ms: 2, last_seen_ms: 3 },
  ],
  [
    'contact_endpoints',
    { public_key: KEY, host: '192.0.2.1', port: 4000, source: 'session', first_seen_ms: 1, last_seen_ms: 2 },
  ],
  [
    'friend_requests',
    {
      public_key: KEY,
      direction: 'incoming',
      message: 'hi ✓',
      state: 'accepted',
      created_ms: 1,
      updated_ms: 1,
      attempts: 1,
      last_attempt_ms: null,
    },
  ],
  [
    'messages',
    {
      id: Buffer.alloc(16, 1),
      conversation: KEY,
      seq: 1,
      sender_seq: 1,
      direction: 'incoming',
      sender: KEY,
      text: 'hello',
      state: 'read',
      via: 'session',
      created_ms: 1,
      received_ms: 2,
      sent_ms: null,
      stored_ms: null,
      delivered_ms: 2,
      read_ms: 3,
      attempts: 0,
      last_attempt_ms: null,
    },
  ],
  [
    'offline_bundles',
    {
      head_target: Buffer.alloc(20, 1),
      conversation: KEY,
      created_ms: 1,
      put_count: 2,
      last_put_ms: 3,
      acked_ms: null,
    },
  ],
  [
    'offline_bundle_parts',
    {
      head_target: Buffer.alloc(20, 1),
      part_index: 0,
      target: Buffer.alloc(20, 1),
      value: Buffer.alloc(40, 7),
    },
  ],
  ['offline_bundle_messages', { head_target: Buffer.alloc(20, 1), message_id: Buffer.alloc(16, 1) }],
  ['offline_fetched', { head_target: Buffer.alloc(20, 2), conversation: KEY, fetched_ms: 5 }],
  ['prekeys', { contact: KEY, prekey_id: 3, secret: Buffer.alloc(32, 3), is_current: 1, created_ms: 1 }],
  ['record_seqs', { contact: KEY, author: 'own', epoch: 20_000, seq: 77, updated_ms: 1 }],
  ['kv', { key: 'friend-prekey-x', value: Buffer.from('{}'), updated_ms: 1 }],
].map(([table, values]) => ({ table: table as string, values: values as BackupRow['values'] }));

const SECTION = encodeBackupStore({ owner: identity.publicKey, rows: ROWS });
const PAYLOAD = encodeBackupPayload({
  seed: identity.signing.seed,
  wasProtected: false,
  name: 'Alice',
  exportedMs: 1,
  store: SECTION,
});

/** Bit flips, byte sets, cuts, inserts and deletions at random places. */
const mutation = (length: number) =>
  fc.array(
    fc.record({
      kind: fc.constantFrom('flip', 'set', 'cut', 'insert', 'delete'),
      at: fc.nat({ max: Math.max(0, length - 1) }),
      byte: fc.nat({ max: 255 }),
    }),
    { minLength: 1, maxLength: 4 },
  );

function mutate(input: Buffer, edits: { kind: string; at: number; byte: number }[]): Buffer {
  let out = Buffer.from(input);
  for (const { kind, at, byte } of edits) {
    const i = out.length === 0 ? 0 : at % out.length;
    if (kind === 'flip' && out.length > 0) out[i] = (out[i] ?? 0) ^ (1 << (byte % 8));
    else if (kind === 'set' && out.length > 0) out[i] = byte;
    else if (kind === 'cut') out = out.subarray(0, i);
    else if (kind === 'insert')
      out = Buffer.concat([out.subarray(0, i), Buffer.from([byte]), out.subarray(i)]);
    else if (kind === 'delete') out = Buffer.concat([out.subarray(0, i), out.subarray(i + 1)]);
  }
  return out;
}

/** fn(bytes) returns or throws a DhtchatError; anything else fails the property. */
function onlyDhtchatErrors(fn: () => unknown): boolean {
  try {
    fn();
    return true;
  } catch (error) {
    if (error instanceof DhtchatError && error.code.startsWith('CHAT_BACKUP_')) return true;
    throw error;
  }
}

/** Every decoded row must still fit its table's columns (the decoder let nothing else through). */
function rowsFitColumns(rows: readonly BackupRow[]): void {
  for (const row of rows) {
    const table = BACKUP_TABLES.find((t) => t.name === row.table);
    assert.ok(table !== undefined, row.table);
    assert.deepEqual(Object.keys(row.values).sort(), table.columns.map((c) => c.name).sort());
    for (const column of table.columns) {
      const value = row.values[column.name];
      if (value === null) assert.ok(column.isNullable, `${row.table}.${column.name} null`);
      else if (column.type.kind === 'int') {
        assert.ok(typeof value === 'number' && value >= column.type.min && value <= column.type.max);
      } else if (column.type.kind === 'bytes') {
        assert.ok(Buffer.isBuffer(value) && value.length <= column.type.maxBytes);
      } else {
        assert.ok(typeof value === 'string');
        if (column.type.oneOf !== undefined) assert.ok(column.type.oneOf.includes(value));
      }
    }
  }
}

test('the valid fixtures decode (so the mutations start from something real)', () => {
  assert.deepEqual(decodeBackupStore(SECTION).rows, ROWS);
  assert.equal(decodeBackupPayload(PAYLOAD).decodedStore.rows.length, ROWS.length);
});

test('store section: random bytes and mutations never throw anything but a CHAT_BACKUP_ error', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 600 }), (bytes) =>
      onlyDhtchatErrors(() => decodeBackupStore(bytes)),
    ),
    { seed: SEED, numRuns: 3_000 },
  );
  fc.assert(
    fc.property(mutation(SECTION.length), (edits) =>
      onlyDhtchatErrors(() => rowsFitColumns(decodeBackupStore(mutate(SECTION, edits)).rows)),
    ),
    { seed: SEED, numRuns: 20_000 },
  );
});

test('payload: random bytes and mutations never throw anything but a CHAT_BACKUP_ error', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 600 }), (bytes) =>
      onlyDhtchatErrors(() => decodeBackupPayload(bytes)),
    ),
    { seed: SEED, numRuns: 3_000 },
  );
  fc.assert(
    fc.property(mutation(PAYLOAD.length), (edits) =>
      onlyDhtchatErrors(() => decodeBackupPayload(mutate(PAYLOAD, edits))),
    ),
    { seed: SEED, numRuns: 10_000 },
  );
});

test('file: random bytes and mutations never open and never throw anything but a CHAT_BACKUP_ error', async () => {
  const file = await sealBackup(PAYLOAD, { passphrase: 'pw', random, scrypt: { logN: 10, r: 1, p: 1 } });
  await fc.assert(
    fc.asyncProperty(fc.oneof(fc.uint8Array({ maxLength: 200 }), mutation(file.length)), async (input) => {
      const bytes = Array.isArray(input) ? mutate(file, input) : Buffer.from(input);
      // The scrypt cost bytes keep their cheap values: a mutation to the top of the allowed range would make one
      // case cost a second and up to 1 GiB (the limits themselves are tested in test/chat/backup-file.test.ts).
      if (looksLikeBackup(bytes) && bytes.length > 20) file.copy(bytes, 17, 17, 20);
      if (bytes.equals(file)) return true;
      try {
        await openBackup(bytes, 'pw');
      } catch (error) {
        if (error instanceof DhtchatError && error.code.startsWith('CHAT_BACKUP_')) return true;
        throw error;
      }
      return false; // an altered file opened
    }),
    { seed: SEED, numRuns: 1_000 },
  );
});
