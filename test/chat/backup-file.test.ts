/**
 * The backup file: envelope (header, scrypt, ChaCha20-Poly1305 over the payload) and payload (identity, name,
 * store section) — round trips, a wrong passphrase, every kind of alteration, limits checked before work.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  BACKUP_HEADER_BYTES,
  type BackupPayload,
  decodeBackupPayload,
  decodeBackupStore,
  encodeBackupPayload,
  encodeBackupStore,
  generateIdentity,
  openBackup,
  sealBackup,
} from '../../src/chat/index.ts';
import { DhtchatError, SeededRandom } from '../../src/runtime/index.ts';
import { decodeBencode, encodeBencode } from '../../src/wire/index.ts';

const FAST = { logN: 10, r: 8, p: 1 };
const random = new SeededRandom('backup-file');

const hasCode = (code: string) => (err: unknown) => err instanceof DhtchatError && err.code === code;

function payloadFor(seedOwner = generateIdentity(random)): BackupPayload {
  const rows = [
    {
      table: 'contacts',
      values: {
        public_key: Buffer.alloc(32, 0xb0),
        name: 'bob',
        state: 'accepted',
        created_ms: 1,
        updated_ms: 2,
        last_seen_ms: null,
      },
    },
  ];
  return {
    seed: seedOwner.signing.seed,
    wasProtected: true,
    name: 'Alice',
    exportedMs: 1_700_000_000_000,
    store: encodeBackupStore({ owner: seedOwner.publicKey, rows }),
  };
}

describe('backup file envelope', () => {
  test('round trip; the payload is not in the file in clear', async () => {
    const payload = encodeBackupPayload(payloadFor());
    const file = await sealBackup(payload, { passphrase: 'pw', random, scrypt: FAST });
    assert.equal(file.subarray(0, 15).toString(), 'dhtchat-backup\n');
    assert.equal(file.length, BACKUP_HEADER_BYTES + payload.length + 16);
    assert.equal(file.indexOf('Alice'), -1);
    assert.deepEqual(await openBackup(file, 'pw'), payload);
    // NFC: the same passphrase typed with a decomposed accent opens it.
    const accented = await sealBackup(payload, { passphrase: 'caf\u00e9', random, scrypt: FAST });
    assert.deepEqual(await openBackup(accented, 'cafe\u0301'), payload);
  });

  test('a wrong passphrase, and a flip of any byte, fail with a backup code (never open)', async () => {
    const file = await sealBackup(encodeBackupPayload(payloadFor()), {
      passphrase: 'pw',
      random,
      scrypt: FAST,
    });
    await assert.rejects(openBackup(file, 'pW'), hasCode('CHAT_BACKUP_WRONG_PASSPHRASE'));
    const codes = new Set<string>();
    for (let i = 0; i < file.length; i += 7) {
      const bad = Buffer.from(file);
      bad[i] = (bad[i] ?? 0) ^ 0x10;
      await assert.rejects(openBackup(bad, 'pw'), (err: unknown) => {
        assert.ok(err instanceof DhtchatError, String(err));
        codes.add(err.code);
        return true;
      });
    }
    assert.ok(
      codes.has('CHAT_BACKUP_WRONG_PASSPHRASE') && codes.has('CHAT_BACKUP_CORRUPT'),
      [...codes].join(),
    );
    assert.ok(
      [...codes].every((c) => c.startsWith('CHAT_BACKUP_')),
      [...codes].join(),
    );
  });

  test('header checks before any scrypt: not a backup, cut short, newer version, huge cost', async () => {
    const file = await sealBackup(Buffer.from('x'), { passphrase: 'pw', random, scrypt: FAST });
    await assert.rejects(openBackup(Buffer.from('hello'), 'pw'), /not a dhtchat backup/);
    await assert.rejects(openBackup(file.subarray(0, BACKUP_HEADER_BYTES + 3), 'pw'), /cut short/);
    const newer = Buffer.from(file);
    newer[15] = 2;
    await assert.rejects(openBackup(newer, 'pw'), hasCode('CHAT_BACKUP_TOO_NEW'));
    const costly = Buffer.from(file);
    costly[17] = 30; // logN 30: 128 GiB per guess
    await assert.rejects(openBackup(costly, 'pw'), /scrypt parameters out of range/);
    await assert.rejects(
      sealBackup(Buffer.from('x'), { passphrase: '', random, scrypt: FAST }),
      hasCode('CHAT_IDENTITY_EMPTY_PASSPHRASE'),
    );
  });
});

describe('backup payload', () => {
  test('round trip, with the store section decoded', () => {
    const payload = payloadFor();
    const back = decodeBackupPayload(encodeBackupPayload(payload));
    assert.deepEqual(back.seed, payload.seed);
    assert.equal(back.wasProtected, true);
    assert.equal(back.name, 'Alice');
    assert.equal(back.exportedMs, payload.exportedMs);
    assert.equal(back.decodedStore.rows[0]?.values['name'], 'bob');
  });

  test('refused: a store of another key, unknown fields, a bad name, a bad seed', () => {
    const corrupt = hasCode('CHAT_BACKUP_CORRUPT');
    const other = payloadFor();
    const mismatched = { ...payloadFor(), store: other.store };
    assert.throws(() => decodeBackupPayload(encodeBackupPayload(mismatched)), /belongs to another key/);
    const edit = (fn: (d: Record<string, unknown>) => void): Buffer => {
      const decoded = decodeBencode(encodeBackupPayload(payloadFor()));
      assert.ok(decoded.ok);
      fn(decoded.value as Record<string, unknown>);
      return encodeBencode(decoded.value);
    };
    assert.throws(() => decodeBackupPayload(edit((d) => (d['extra'] = 1))), corrupt);
    assert.throws(() => decodeBackupPayload(edit((d) => (d['name'] = Buffer.from('a\u001b[2Jb')))), corrupt);
    assert.throws(() => decodeBackupPayload(edit((d) => (d['name'] = Buffer.from([0xff])))), corrupt);
    assert.throws(() => decodeBackupPayload(edit((d) => (d['seed'] = Buffer.alloc(31)))), corrupt);
    assert.throws(() => decodeBackupPayload(edit((d) => (d['protected'] = 2))), corrupt);
    assert.throws(() => decodeBackupPayload(edit((d) => delete d['store'])), corrupt);
  });

  test('a store row with a value outside its column is refused (state, size, range, unknown column)', () => {
    const id = generateIdentity(random);
    const row = (values: Record<string, unknown>) => [
      {
        table: 'contacts',
        values: {
          public_key: Buffer.alloc(32, 1),
          state: 'accepted',
          created_ms: 1,
          updated_ms: 1,
          ...values,
        },
      },
    ];
    const refuses = (values: Record<string, unknown>, pattern: RegExp): void => {
      assert.throws(() => encodeBackupStore({ owner: id.publicKey, rows: row(values) as never }), pattern);
    };
    refuses({ state: 'friend' }, /contacts\.state is not one of/);
    refuses({ public_key: Buffer.alloc(31) }, /contacts\.public_key is not 32…32 bytes/);
    refuses({ created_ms: -1 }, /contacts\.created_ms is not an integer/);
    refuses({ name: 'x'.repeat(300) }, /contacts\.name is not text/);
    // A column the table does not have, written by hand (the encoder only writes known columns).
    const values = {
      public_key: Buffer.alloc(32, 1),
      state: Buffer.from('accepted'),
      created_ms: 1,
      updated_ms: 1,
    };
    const record = encodeBencode({ r: { ...values, colour: 1 }, t: Buffer.from('contacts') } as never);
    const section = Buffer.concat([
      encodeBackupStore({ owner: id.publicKey, rows: [] }),
      Buffer.from([0, 0, record.length >> 8, record.length & 0xff]),
      record,
    ]);
    assert.throws(() => decodeBackupStore(section), /a "contacts" row has an unknown column/);
  });
});
