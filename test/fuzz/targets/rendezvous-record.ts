/**
 * Rendezvous records (src/chat/record-body.ts, rendezvous-record.ts): every input goes to decodeRecordBody (the
 * padded plaintext) and, as a record's `v`, to openRecord (AEAD under the pair's record key, then the body).
 * Properties: never throws; a rejection is a known code; a decoded body re-encodes within its limits and decodes
 * to the same record; a `v` that opens is one we sealed (authenticity), and yields the record sealed in it.
 */
import assert from 'node:assert/strict';
import { decodeRecordBody, encodeRecordBody, type RendezvousRecord } from '../../../src/chat/record-body.ts';
import {
  openRecord,
  RecordOpenError,
  recordKeyFor,
  sealRecord,
} from '../../../src/chat/rendezvous-record.ts';
import { SeededRandom } from '../../../src/runtime/index.ts';
import type { FuzzRandom } from '../fuzz-random.ts';
import { type FuzzTarget, tokens } from '../fuzz-target.ts';

const CODES = new Set<string>(Object.values(RecordOpenError));
const parties = {
  pairSecret: Buffer.alloc(32, 0x50),
  authorPk: Buffer.alloc(32, 0xa1),
  readerPk: Buffer.alloc(32, 0xb0),
  epoch: 20_000,
};
const key = recordKeyFor(parties.pairSecret, parties.authorPk, parties.epoch);
/** hex of each v we sealed → the record inside. */
const sealed = new Map<string, RendezvousRecord | undefined>();

function records(random: FuzzRandom): RendezvousRecord[] {
  const target = () => random.bytes(20);
  return [
    { timestampMs: 1_700_000_000_000, endpoints: [], introducers: [], pendingOffline: [], ackedOffline: [] },
    {
      timestampMs: 1_700_000_123_456,
      endpoints: [
        { kind: 'public', address: { host: '203.0.113.7', port: 40_000 } },
        { kind: 'lan', address: { host: '192.168.1.20', port: 40_000 } },
        { kind: 'mapped', address: { host: '2001:db8::5', port: 1 } },
      ],
      introducers: [
        { host: '198.51.100.1', port: 6881 },
        { host: '2001:db8::1', port: 6881 },
      ],
      pendingOffline: [target(), target()],
      ackedOffline: [target()],
      prekey: random.bytes(32),
    },
  ];
}

export const rendezvousRecordTarget: FuzzTarget = {
  name: 'rendezvous-record',
  decoders: 'decodeRecordBody, openRecord, encodeRecordBody',
  weight: 4,
  maxInputBytes: 900,
  dictionary: tokens(
    '1:t',
    '1:e',
    '1:i',
    '1:p',
    '1:a',
    '1:k',
    '7:',
    '19:',
    '6:',
    '18:',
    '20:',
    '32:',
    'le',
    'i0e',
    'i-1e',
    '\x02\xd6',
    '\xff\xff',
  ),
  seeds(random: FuzzRandom): Buffer[] {
    const seeds: Buffer[] = [];
    for (const record of records(random)) {
      const body = encodeRecordBody(record);
      assert.ok(typeof body !== 'string', body as string);
      seeds.push(body);
      const { v } = sealRecord(parties, record, new SeededRandom(`record-${seeds.length}`));
      // As the decoder makes it (an absent prekey is a present `undefined`).
      sealed.set(v.toString('hex'), decodeRecordBody(body));
      seeds.push(v);
    }
    return seeds;
  },
  run(input: Buffer): string {
    let outcome = 'body-reject';
    const record = decodeRecordBody(input);
    if (record !== undefined) {
      const again = encodeRecordBody(record);
      assert.ok(typeof again !== 'string', `a decoded record breaks a limit: ${again as string}`);
      assert.deepEqual(decodeRecordBody(again), record, 'decode(encode(r)) == r');
      outcome = `body-ok:${record.endpoints.length}:${record.introducers.length}:${record.prekey === undefined}`;
    }
    const opened = openRecord(parties, { v: input }, key);
    if (opened.ok) {
      const genuine = sealed.get(input.toString('hex'));
      assert.ok(genuine !== undefined, 'only a v we sealed opens');
      assert.deepEqual(opened.record, genuine);
      return `${outcome}:open-ok`;
    }
    assert.ok(CODES.has(opened.code), `unknown code ${opened.code}`);
    return `${outcome}:${opened.code}`;
  },
};
