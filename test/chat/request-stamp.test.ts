/** Friend-request stamps: the exact digests, what checks accept and refuse, and how a solve shares the CPU. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { HOUR_EPOCH_MS } from '../../src/chat/epoch.ts';
import {
  checkStamp,
  REQUEST_STAMP_BITS,
  SOLVE_SLICE_ATTEMPTS,
  STAMP_NONCE_BYTES,
  STAMP_PARTS,
  solveStamp,
  stampWork,
} from '../../src/chat/request-stamp.ts';

const recipientPk = Buffer.alloc(32, 0x11);
const requesterPk = Buffer.alloc(32, 0x22);
const parties = { recipientPk, requesterPk };
const HOUR = 491_234;
const IN_HOUR_MS = HOUR * HOUR_EPOCH_MS + 17 * 60_000;
const fromZero = { startNonce: Buffer.alloc(STAMP_NONCE_BYTES), yieldNow: async () => {} };

/** Found with Python's hashlib over the same bytes: the first nonce of each part with ≥ 8 zero bits. */
const KNOWN_NONCES = [441, 170, 0, 100, 421, 471, 77, 557, 49, 311, 199, 18, 279, 132, 51, 242];

function nonceOf(stampNonces: Buffer, part: number): number {
  return Number(stampNonces.readBigUInt64BE(part * STAMP_NONCE_BYTES));
}

describe('request stamps', () => {
  test('known answer: part i = SHA-256(label ‖ 0 ‖ recipient ‖ requester ‖ hour ‖ i ‖ nonce_i)', async () => {
    const stamp = await solveStamp(parties, HOUR, { bits: 8, ...fromZero });
    assert.ok(stamp !== undefined);
    assert.equal(stamp.hour, HOUR);
    assert.deepEqual(
      Array.from({ length: STAMP_PARTS }, (_, i) => nonceOf(stamp.nonces, i)),
      KNOWN_NONCES,
    );
    assert.equal(stampWork(parties, stamp), 8);
  });

  test('valid for its hour and the next; stale two hours on or an hour early; short with too little work', async () => {
    const stamp = await solveStamp(parties, HOUR, { bits: 10, ...fromZero });
    assert.ok(stamp !== undefined);
    const work = stampWork(parties, stamp);
    assert.equal(checkStamp(parties, stamp, IN_HOUR_MS, 10), 'valid');
    assert.equal(checkStamp(parties, stamp, IN_HOUR_MS + HOUR_EPOCH_MS, 10), 'valid');
    assert.equal(checkStamp(parties, stamp, IN_HOUR_MS + 2 * HOUR_EPOCH_MS, 10), 'stale');
    assert.equal(checkStamp(parties, stamp, IN_HOUR_MS - HOUR_EPOCH_MS, 10), 'stale');
    assert.equal(checkStamp(parties, stamp, IN_HOUR_MS, work + 1), 'short');
    assert.ok(work < REQUEST_STAMP_BITS);
    assert.equal(checkStamp(parties, stamp, IN_HOUR_MS), 'short', 'the product asks for more');
  });

  test('every part counts: one weak part, or one part’s nonce moved to another index, fails', async () => {
    const stamp = await solveStamp(parties, HOUR, { bits: 10, ...fromZero });
    assert.ok(stamp !== undefined);
    const swapped = Buffer.from(stamp.nonces);
    stamp.nonces.copy(swapped, 0, 8, 16);
    stamp.nonces.copy(swapped, 8, 0, 8);
    assert.equal(checkStamp(parties, { hour: HOUR, nonces: swapped }, IN_HOUR_MS, 10), 'short');
    // The last part's nonce replaced by the first one (from 1 on) that lacks the work: the whole stamp fails.
    const weakLast = Buffer.from(stamp.nonces);
    for (let n = 1n; stampWork(parties, { hour: HOUR, nonces: weakLast }) >= 10; n++) {
      weakLast.writeBigUInt64BE(n, (STAMP_PARTS - 1) * STAMP_NONCE_BYTES);
    }
    assert.equal(checkStamp(parties, { hour: HOUR, nonces: weakLast }, IN_HOUR_MS, 10), 'short');
    assert.equal(checkStamp(parties, { hour: HOUR, nonces: Buffer.alloc(8) }, IN_HOUR_MS, 1), 'short');
  });

  test('bound to both keys and the hour: the same nonces are worthless for anyone else or another hour', async () => {
    const stamp = await solveStamp(parties, HOUR, { bits: 10, ...fromZero });
    assert.ok(stamp !== undefined);
    const swapped = { recipientPk: requesterPk, requesterPk: recipientPk };
    const other = { recipientPk, requesterPk: Buffer.alloc(32, 0x33) };
    assert.equal(checkStamp(swapped, stamp, IN_HOUR_MS, 10), 'short');
    assert.equal(checkStamp(other, stamp, IN_HOUR_MS, 10), 'short');
    assert.equal(checkStamp(parties, { hour: HOUR - 1, nonces: stamp.nonces }, IN_HOUR_MS, 10), 'short');
  });

  test('a solve yields every SOLVE_SLICE_ATTEMPTS hashes and can be cancelled between slices', async () => {
    let yields = 0;
    const stamp = await solveStamp(parties, HOUR, {
      bits: 12,
      startNonce: Buffer.alloc(STAMP_NONCE_BYTES),
      yieldNow: async () => {
        yields++;
      },
    });
    assert.ok(stamp !== undefined);
    // Part i tried nonces 0..n_i: n_i + 1 hashes, of which the last found it.
    let hashes = 0;
    for (let i = 0; i < STAMP_PARTS; i++) hashes += nonceOf(stamp.nonces, i) + 1;
    assert.equal(yields, Math.floor((hashes - STAMP_PARTS) / SOLVE_SLICE_ATTEMPTS));
    assert.ok(stampWork(parties, stamp) >= 12);
    let slices = 0;
    const cancelled = await solveStamp(parties, HOUR, {
      bits: 32,
      startNonce: Buffer.alloc(STAMP_NONCE_BYTES),
      yieldNow: async () => {},
      isCancelled: () => ++slices >= 3,
    });
    assert.equal(cancelled, undefined);
    assert.equal(slices, 3);
  });

  test('the nonce counter carries from its low 32 bits into the high 32', async () => {
    const start = Buffer.from('00000007ffffffff', 'hex');
    const stamp = await solveStamp(parties, HOUR, { bits: 8, startNonce: start, yieldNow: async () => {} });
    assert.ok(stamp !== undefined);
    for (let i = 0; i < STAMP_PARTS; i++) {
      const high = stamp.nonces.readUInt32BE(i * STAMP_NONCE_BYTES);
      assert.ok(high === 7 || high === 8, `part ${i} started at 7:ffffffff and went on from 8:00000000`);
    }
    assert.equal(checkStamp(parties, stamp, IN_HOUR_MS, 8), 'valid');
  });
});
