/**
 * The store section of a backup: the chat store's rows (store/backup-rows.ts) as bytes and back, strictly.
 *
 *   section = record*        record = length (u32 big-endian) ‖ bencode(value)
 *   first record:  { v: 1, owner: <32-byte public key the store belongs to> }
 *   then one per row, tables in insert order:  { t: <table name>, r: { <column>: <value>, ... } }
 * A text column is its UTF-8 bytes, an integer a bencode integer, a blob its bytes; NULL is an absent key.
 *
 * Length-prefixed records rather than one bencoded list: each row is decoded alone with small limits (size,
 * depth, item count), so a section of any length never makes the decoder build more than one row's values at
 * a time on top of the rows it returns. Every value is checked against its column (size, range, enumeration,
 * valid UTF-8), unknown tables and columns are refused, and tables must come in insert order.
 */
import { DhtchatError } from '../runtime/index.ts';
import { type BDict, type BValue, decodeBencode, encodeBencode } from '../wire/index.ts';
import { BackupError, backupCorrupt, MAX_BACKUP_BYTES } from './backup-errors.ts';
import {
  BACKUP_TABLE_BY_NAME,
  BACKUP_TABLES,
  type BackupColumn,
  type BackupRow,
  type BackupTable,
} from './store/backup-rows.ts';
import type { SqlValue } from './store/sqlite.ts';

export const BACKUP_STORE_VERSION = 1;
/** A message row is at most 16 KiB of text and ~300 bytes of fields; a settings row at most 64 KiB. */
const MAX_RECORD_BYTES = 128 * 1024;
const LENGTH_BYTES = 4;
const OWNER_BYTES = 32;

export interface BackupStore {
  /** The identity key the rows belong to (messages name it as their sender). */
  readonly owner: Buffer;
  readonly rows: readonly BackupRow[];
}

export function encodeBackupStore(store: BackupStore): Buffer {
  const header: BDict = Object.create(null);
  header['v'] = BACKUP_STORE_VERSION;
  header['owner'] = Buffer.from(store.owner);
  const records = [framed(header)];
  let size = records[0]?.length ?? 0;
  for (const row of store.rows) {
    const table = BACKUP_TABLE_BY_NAME.get(row.table);
    if (table === undefined) throw backupCorrupt(`no table "${row.table}" in a backup`);
    const record: BDict = Object.create(null);
    record['t'] = Buffer.from(row.table);
    record['r'] = encodeValues(table, row.values);
    // Checked as an import will check it: a row that could not be restored must not be written.
    decodeValues(table, record['r']);
    const bytes = framed(record);
    size += bytes.length;
    if (size > MAX_BACKUP_BYTES) throw tooLarge();
    records.push(bytes);
  }
  return Buffer.concat(records);
}

/** The section's owner and rows, every value checked. Throws CHAT_BACKUP_CORRUPT / _TOO_NEW / _TOO_LARGE. */
export function decodeBackupStore(bytes: Uint8Array): BackupStore {
  if (bytes.length > MAX_BACKUP_BYTES) throw tooLarge();
  const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let offset = 0;
  const next = (): BDict | undefined => {
    if (offset === buffer.length) return undefined;
    if (buffer.length - offset < LENGTH_BYTES) throw backupCorrupt('a store record is cut short');
    const length = buffer.readUInt32BE(offset);
    if (length > MAX_RECORD_BYTES) throw backupCorrupt(`a store record of ${length} bytes`);
    const start = offset + LENGTH_BYTES;
    if (buffer.length - start < length) throw backupCorrupt('a store record is cut short');
    offset = start + length;
    const decoded = decodeBencode(buffer.subarray(start, offset), {
      maxBytes: MAX_RECORD_BYTES,
      maxDepth: 3,
      maxItems: 128,
    });
    if (!decoded.ok) throw backupCorrupt(`a store record is not bencode (${decoded.code})`);
    if (!isDict(decoded.value)) throw backupCorrupt('a store record is not a dictionary');
    return decoded.value;
  };
  const header = next();
  if (header === undefined) throw backupCorrupt('the store section is empty');
  const owner = checkHeader(header);
  const rows: BackupRow[] = [];
  let tableIndex = 0;
  for (let record = next(); record !== undefined; record = next()) {
    if (!hasOnlyKeys(record, ['r', 't'])) throw backupCorrupt('a store record has unexpected fields');
    const name = record['t'];
    const table = Buffer.isBuffer(name) ? BACKUP_TABLE_BY_NAME.get(name.toString('latin1')) : undefined;
    if (table === undefined) throw backupCorrupt('a row names an unknown table');
    const index = BACKUP_TABLES.indexOf(table);
    if (index < tableIndex) throw backupCorrupt(`"${table.name}" rows out of order`);
    tableIndex = index;
    rows.push({ table: table.name, values: decodeValues(table, record['r']) });
  }
  return { owner, rows };
}

function checkHeader(header: BDict): Buffer {
  if (!hasOnlyKeys(header, ['owner', 'v'])) throw backupCorrupt('the store header has unexpected fields');
  const version = header['v'];
  if (typeof version !== 'number') throw backupCorrupt('the store header has no version');
  if (version > BACKUP_STORE_VERSION) {
    throw new DhtchatError(BackupError.tooNew, `the backup's store is version ${version}: upgrade dhtchat`);
  }
  if (version !== BACKUP_STORE_VERSION) throw backupCorrupt(`store version ${version}`);
  const owner = header['owner'];
  if (!Buffer.isBuffer(owner) || owner.length !== OWNER_BYTES) throw backupCorrupt('bad store owner');
  return owner;
}

function encodeValues(table: BackupTable, values: Readonly<Record<string, SqlValue>>): BDict {
  const out: BDict = Object.create(null);
  for (const column of table.columns) {
    const value = values[column.name];
    if (value === null || value === undefined) continue;
    if (typeof value === 'string') out[column.name] = Buffer.from(value, 'utf8');
    else if (typeof value === 'bigint') out[column.name] = Number(value);
    else out[column.name] = value;
  }
  return out;
}

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

function decodeValues(table: BackupTable, raw: BValue | undefined): Record<string, SqlValue> {
  if (!isDict(raw)) throw backupCorrupt(`a "${table.name}" row is not a dictionary`);
  const names = new Set(table.columns.map((c) => c.name));
  for (const key of Object.keys(raw)) {
    if (!names.has(key)) throw backupCorrupt(`a "${table.name}" row has an unknown column`);
  }
  const values: Record<string, SqlValue> = {};
  for (const column of table.columns) values[column.name] = decodeValue(table, column, raw[column.name]);
  return values;
}

function decodeValue(table: BackupTable, column: BackupColumn, raw: BValue | undefined): SqlValue {
  const where = `${table.name}.${column.name}`;
  if (raw === undefined) {
    if (column.isNullable === true) return null;
    throw backupCorrupt(`${where} is missing`);
  }
  const type = column.type;
  switch (type.kind) {
    case 'int':
      if (typeof raw !== 'number' || !Number.isSafeInteger(raw) || raw < type.min || raw > type.max) {
        throw backupCorrupt(`${where} is not an integer in ${type.min}…${type.max}`);
      }
      return raw;
    case 'bytes':
      if (!Buffer.isBuffer(raw) || raw.length < type.minBytes || raw.length > type.maxBytes) {
        throw backupCorrupt(`${where} is not ${type.minBytes}…${type.maxBytes} bytes`);
      }
      return Buffer.from(raw);
    case 'text': {
      if (!Buffer.isBuffer(raw) || raw.length > type.maxBytes) {
        throw backupCorrupt(`${where} is not text of at most ${type.maxBytes} bytes`);
      }
      let value: string;
      try {
        value = utf8.decode(raw);
      } catch {
        throw backupCorrupt(`${where} is not UTF-8`);
      }
      if (type.oneOf !== undefined && !type.oneOf.includes(value)) {
        throw backupCorrupt(`${where} is not one of ${type.oneOf.join(', ')}`);
      }
      return value;
    }
  }
}

function framed(value: BDict): Buffer {
  const body = encodeBencode(value);
  if (body.length > MAX_RECORD_BYTES) throw backupCorrupt(`a store row of ${body.length} bytes`);
  const length = Buffer.alloc(LENGTH_BYTES);
  length.writeUInt32BE(body.length);
  return Buffer.concat([length, body]);
}

function tooLarge(): DhtchatError {
  return new DhtchatError(
    BackupError.tooLarge,
    `the backup would be over ${MAX_BACKUP_BYTES / (1024 * 1024)} MiB, the most dhtchat writes or reads`,
  );
}

function isDict(value: BValue | undefined): value is BDict {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !Buffer.isBuffer(value);
}

function hasOnlyKeys(dict: BDict, keys: readonly string[]): boolean {
  const present = Object.keys(dict).sort();
  return present.length === keys.length && present.every((k, i) => k === keys[i]);
}
