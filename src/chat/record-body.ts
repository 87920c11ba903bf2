/**
 * The plaintext of a rendezvous record (what rendezvous-record.ts encrypts): a strict bencoded dict, with list
 * limits chosen so the sealed value always fits a fixed size (RECORD_V_BYTES), padded to it so that storage nodes
 * learn nothing from a record's length (how many endpoints, how many pending messages).
 *
 *   { t: timestamp ms, e: [kind(1) ‖ compact address], i: [compact address], p: [20-byte target],
 *     a: [20-byte target], k: 32-byte X25519 prekey (optional),
 *     n: the author's NAT mapping (0 unknown, 1 none, 2 keeps one port, 3 randomises; optional, nat-mapping.ts),
 *     w: the author wants a session and has been punching since t − w ms (optional; 0..WANT_MAX_AGE_MS) }
 *
 * Padded plaintext = u16 big-endian length of the dict ‖ dict ‖ zero bytes. Unknown dict keys are ignored, so a
 * later minor version can add a field; anything malformed or over a limit is rejected as a value (remote input).
 */
import type { UdpAddress } from '../runtime/index.ts';
import {
  type BDict,
  type BValue,
  decodeBencode,
  decodeCompactAddress,
  encodeBencode,
  encodeCompactAddress,
} from '../wire/index.ts';
import { TARGET_BYTES } from './labels.ts';
import { NatMapping } from './nat-mapping.ts';

export const EndpointKind = { public: 'public', lan: 'lan', mapped: 'mapped' } as const;
export type EndpointKind = (typeof EndpointKind)[keyof typeof EndpointKind];
const KIND_BYTES: readonly EndpointKind[] = ['public', 'lan', 'mapped'];

export interface RecordEndpoint {
  readonly kind: EndpointKind;
  readonly address: UdpAddress;
}

export interface RendezvousRecord {
  /** The author's clock when it sealed the record (ms since 1970). */
  readonly timestampMs: number;
  /** Where the author listens: public (BEP 42 voted), LAN, or port-mapped (NAT-PMP/PCP/UPnP). */
  readonly endpoints: readonly RecordEndpoint[];
  /** DHT nodes the author keeps its NAT mapping open with, that forward a "punch to me" note. */
  readonly introducers: readonly UdpAddress[];
  /** Head targets (immutable items) of offline messages the author sealed for the reader and not yet acked. */
  readonly pendingOffline: readonly Buffer[];
  /** Head targets of the reader's offline messages the author has received and stored (acks). */
  readonly ackedOffline: readonly Buffer[];
  /** The author's current one-time X25519 prekey, for the reader's next offline message. */
  readonly prekey?: Buffer | undefined;
  /** How the author's NAT maps its socket, as DHT nodes report it (absent from older versions: unknown). */
  readonly natMapping?: NatMapping | undefined;
  /**
   * The author wants a session with the reader and is sending to the reader's endpoints since this time
   * (record-coordinated punching, punch-coordinator.ts): the reader punches back at once.
   */
  readonly wantSinceMs?: number | undefined;
}

/** A wish older than this (relative to the record's t) is not written: the punching it announced is over. */
export const WANT_MAX_AGE_MS = 60_000;
const NAT_MAPPING_CODES: readonly NatMapping[] = ['unknown', 'none', 'keeps', 'randomises'];

/** Limits that keep the worst case within RECORD_BODY_MAX_BYTES (test/chat/rendezvous-record.test.ts checks). */
export const RECORD_LIMITS = {
  maxEndpoints: 6,
  /** We keep 3 (introducer-keeper.ts); records of versions that wrote 4 are still read (READ_MAX_INTRODUCERS). */
  maxIntroducers: 3,
  maxPendingOffline: 10,
  maxAckedOffline: 8,
} as const;

/** Bytes of padded plaintext: the fixed v size (760) minus its 4-byte length prefix, 12-byte nonce, 16-byte tag. */
export const RECORD_PLAINTEXT_BYTES = 728;
const READ_MAX_INTRODUCERS = 4;
const LENGTH_PREFIX_BYTES = 2;
export const RECORD_BODY_MAX_BYTES = RECORD_PLAINTEXT_BYTES - LENGTH_PREFIX_BYTES;

/** The padded plaintext of a record, or a description of the limit it breaks. */
export function encodeRecordBody(record: RendezvousRecord): Buffer | string {
  const broken = brokenLimit(record);
  if (broken !== undefined) return broken;
  const dict: BDict = Object.create(null);
  dict['t'] = record.timestampMs;
  dict['e'] = record.endpoints.map((e) =>
    Buffer.concat([Buffer.from([KIND_BYTES.indexOf(e.kind)]), encodeCompactAddress(e.address)]),
  );
  dict['i'] = record.introducers.map((a) => encodeCompactAddress(a));
  dict['p'] = [...record.pendingOffline];
  dict['a'] = [...record.ackedOffline];
  if (record.prekey !== undefined) dict['k'] = record.prekey;
  if (record.natMapping !== undefined && record.natMapping !== 'unknown')
    dict['n'] = NAT_MAPPING_CODES.indexOf(record.natMapping);
  const wantAgeMs = record.wantSinceMs === undefined ? undefined : record.timestampMs - record.wantSinceMs;
  if (wantAgeMs !== undefined && wantAgeMs >= 0 && wantAgeMs <= WANT_MAX_AGE_MS) dict['w'] = wantAgeMs;
  const body = encodeBencode(dict);
  if (body.length > RECORD_BODY_MAX_BYTES) return `record body is ${body.length} bytes`;
  const out = Buffer.alloc(RECORD_PLAINTEXT_BYTES);
  out.writeUInt16BE(body.length, 0);
  body.copy(out, LENGTH_PREFIX_BYTES);
  return out;
}

function brokenLimit(r: RendezvousRecord): string | undefined {
  if (!Number.isSafeInteger(r.timestampMs) || r.timestampMs < 0) return 'timestamp is not a time';
  if (r.endpoints.length > RECORD_LIMITS.maxEndpoints) return 'too many endpoints';
  if (r.introducers.length > RECORD_LIMITS.maxIntroducers) return 'too many introducers';
  if (r.pendingOffline.length > RECORD_LIMITS.maxPendingOffline) return 'too many pending offline messages';
  if (r.ackedOffline.length > RECORD_LIMITS.maxAckedOffline) return 'too many acked offline messages';
  if (![...r.pendingOffline, ...r.ackedOffline].every((t) => t.length === TARGET_BYTES)) return 'bad target';
  if (r.prekey !== undefined && r.prekey.length !== 32) return 'prekey is not 32 bytes';
  if (!r.endpoints.every((e) => KIND_BYTES.includes(e.kind))) return 'unknown endpoint kind';
  if (r.natMapping !== undefined && !NAT_MAPPING_CODES.includes(r.natMapping)) return 'unknown NAT mapping';
  if (r.wantSinceMs !== undefined && !Number.isSafeInteger(r.wantSinceMs)) return 'wish is not a time';
  return undefined;
}

/** The record in a padded plaintext, or undefined when anything is malformed. Never throws. */
export function decodeRecordBody(plaintext: Buffer): RendezvousRecord | undefined {
  if (plaintext.length !== RECORD_PLAINTEXT_BYTES) return undefined;
  const bodyLength = plaintext.readUInt16BE(0);
  if (bodyLength > RECORD_BODY_MAX_BYTES) return undefined;
  const end = LENGTH_PREFIX_BYTES + bodyLength;
  if (plaintext.subarray(end).some((byte) => byte !== 0)) return undefined;
  const decoded = decodeBencode(plaintext.subarray(LENGTH_PREFIX_BYTES, end), { maxDepth: 3, maxItems: 128 });
  if (!decoded.ok) return undefined;
  const d = decoded.value;
  if (typeof d !== 'object' || Array.isArray(d) || Buffer.isBuffer(d)) return undefined;
  const t = d['t'];
  if (typeof t !== 'number' || t < 0) return undefined;
  const endpoints = listOf(d['e'], RECORD_LIMITS.maxEndpoints, decodeEndpoint);
  const introducers = listOf(d['i'], READ_MAX_INTRODUCERS, decodeAddress);
  const pendingOffline = listOf(d['p'], RECORD_LIMITS.maxPendingOffline, decodeTarget);
  const ackedOffline = listOf(d['a'], RECORD_LIMITS.maxAckedOffline, decodeTarget);
  if (!endpoints || !introducers || !pendingOffline || !ackedOffline) return undefined;
  const prekey = d['k'];
  if (prekey !== undefined && !(Buffer.isBuffer(prekey) && prekey.length === 32)) return undefined;
  const n = d['n'];
  if (n !== undefined && (typeof n !== 'number' || n < 0)) return undefined;
  const w = d['w'];
  if (w !== undefined && (typeof w !== 'number' || w < 0 || w > WANT_MAX_AGE_MS || w > t)) return undefined;
  return {
    timestampMs: t,
    endpoints,
    introducers,
    pendingOffline,
    ackedOffline,
    prekey,
    // A code from a later version is a behaviour we do not know: unknown.
    ...(n === undefined ? {} : { natMapping: NAT_MAPPING_CODES[n] ?? NatMapping.unknown }),
    ...(w === undefined ? {} : { wantSinceMs: t - w }),
  };
}

function listOf<T>(
  value: BValue | undefined,
  max: number,
  item: (b: Buffer) => T | undefined,
): T[] | undefined {
  if (!Array.isArray(value) || value.length > max) return undefined;
  const out: T[] = [];
  for (const element of value) {
    if (!Buffer.isBuffer(element)) return undefined;
    const decoded = item(element);
    if (decoded === undefined) return undefined;
    out.push(decoded);
  }
  return out;
}

function decodeAddress(bytes: Buffer): UdpAddress | undefined {
  const address = decodeCompactAddress(bytes);
  return address === undefined || address.port === 0 ? undefined : address;
}

function decodeEndpoint(bytes: Buffer): RecordEndpoint | undefined {
  const kind = KIND_BYTES[bytes[0] ?? 255];
  const address = decodeAddress(bytes.subarray(1));
  return kind === undefined || address === undefined ? undefined : { kind, address };
}

function decodeTarget(bytes: Buffer): Buffer | undefined {
  return bytes.length === TARGET_BYTES ? Buffer.from(bytes) : undefined;
}
