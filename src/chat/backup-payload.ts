/**
 * What a backup file holds once opened (backup-file.ts seals it): the identity, the profile name and the store
 * section (backup-store-codec.ts), as one strict bencoded dict:
 *
 *   { seed: <32>, protected: 0 | 1, name?: <UTF-8>, exported: <ms>, store: <store section bytes> }
 *
 * `protected` says whether identity.dat was passphrase-protected where it was exported, so an import does not
 * silently leave the key unprotected. The seed must give the public key the store section names as its owner.
 */
import { timingSafeEqual } from 'node:crypto';
import { ed25519FromSeed } from '../crypto/index.ts';
import { type BDict, decodeBencode, encodeBencode } from '../wire/index.ts';
import { backupCorrupt, MAX_BACKUP_BYTES } from './backup-errors.ts';
import { decodeBackupStore } from './backup-store-codec.ts';

/** A profile name is 1-64 characters: 256 bytes of UTF-8 hold any. */
const MAX_NAME_BYTES = 256;
const SEED_BYTES = 32;

export interface BackupPayload {
  readonly seed: Buffer;
  readonly wasProtected: boolean;
  readonly name: string | undefined;
  readonly exportedMs: number;
  /** The store section, as encodeBackupStore made it. */
  readonly store: Buffer;
}

export function encodeBackupPayload(payload: BackupPayload): Buffer {
  const d: BDict = Object.create(null);
  d['seed'] = payload.seed;
  d['protected'] = payload.wasProtected ? 1 : 0;
  if (payload.name !== undefined) d['name'] = Buffer.from(payload.name, 'utf8');
  d['exported'] = payload.exportedMs;
  d['store'] = payload.store;
  return encodeBencode(d);
}

/**
 * The payload, with the store section decoded and checked against the seed. Throws CHAT_BACKUP_CORRUPT (or the
 * store section's _TOO_NEW / _TOO_LARGE).
 */
export function decodeBackupPayload(bytes: Uint8Array): BackupPayload & {
  readonly decodedStore: ReturnType<typeof decodeBackupStore>;
} {
  const view = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const decoded = decodeBencode(view, {
    maxBytes: MAX_BACKUP_BYTES,
    maxDepth: 2,
    maxItems: 16,
  });
  if (!decoded.ok) throw backupCorrupt(`the content is not bencode (${decoded.code})`);
  const d = decoded.value;
  if (typeof d !== 'object' || d === null || Array.isArray(d) || Buffer.isBuffer(d)) {
    throw backupCorrupt('the content is not a dictionary');
  }
  const allowed = new Set(['seed', 'protected', 'name', 'exported', 'store']);
  if (Object.keys(d).some((key) => !allowed.has(key))) throw backupCorrupt('unexpected fields');
  const { seed, store, exported } = d;
  if (!Buffer.isBuffer(seed) || seed.length !== SEED_BYTES) throw backupCorrupt('bad secret key');
  if (d['protected'] !== 0 && d['protected'] !== 1) throw backupCorrupt('bad "protected" flag');
  if (typeof exported !== 'number' || exported < 0) throw backupCorrupt('bad export time');
  if (!Buffer.isBuffer(store)) throw backupCorrupt('no store section');
  const name = decodeName(d['name']);
  const decodedStore = decodeBackupStore(store);
  if (!timingSafeEqual(ed25519FromSeed(seed).publicKey, decodedStore.owner)) {
    throw backupCorrupt('the chat store belongs to another key than the identity');
  }
  return { seed, wasProtected: d['protected'] === 1, name, exportedMs: exported, store, decodedStore };
}

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** The profile name: optional, 1-64 printable characters (it is printed on terminals). */
function decodeName(raw: unknown): string | undefined {
  if (raw === undefined) return undefined;
  if (!Buffer.isBuffer(raw) || raw.length === 0 || raw.length > MAX_NAME_BYTES)
    throw backupCorrupt('bad name');
  let name: string;
  try {
    name = utf8.decode(raw);
  } catch {
    throw backupCorrupt('the name is not UTF-8');
  }
  // The rule `init --name` applies: the app escapes the rest when printing (terminalSafe).
  if ([...name].length > 64 || /[\u0000-\u001f\u007f]/.test(name) || name.trim() !== name) {
    throw backupCorrupt('bad name');
  }
  return name;
}
