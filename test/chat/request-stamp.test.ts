/** Friend-request stamps: the exact digest, what checks accept and refuse, and how a solve shares the CPU. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { HOUR_EPOCH_MS } from '../../src/chat/epoch.ts';
import {
  checkStamp,
  REQUEST_STAMP_BITS,
  SOLVE_SLICE_ATTEMPTS,
  solveStamp,
  stampWork,
} from '../../src/chat/request-stamp.ts';

const recipientPk = Buffer.alloc(32, 0x11);
const requesterPk = Buffer.alloc(32, 0x22);
const parties = { recipientPk, requesterPk };
const HOUR = 491_234;
const IN_HOUR_MS = HOUR * HOUR_EPOCH_MS + 17 * 60_000;

/** Counts the slices a solve yields between. */
function counting(): { yields: number; yieldNow(): Promise<void> } {
  const counter = {
    yields: 0,
    async yieldNow() {
      counter.yields++;
    },
  };
  return counter;
}

describe('request stamps', () => {
  test('known answer: SHA-256(label ‖ 0 ‖ recipient ‖ requester ‖ hour ‖ nonce), first nonce with 12 zero bits', async () => {
    // Found with Python's hashlib over the same bytes: nonce 2178, digest 0005b308aa18… (13 leading zero bits).
    const stamp = await solveStamp(parties, HOUR, { bits: 12, startNonce: Buffer.alloc(8), ...counting() });
    assert.deepEqual(stamp, { hour: HOUR, nonce: Buffer.from('0000000000000882', 'hex') });
    assert.equal(stampWork(parties, { hour: HOUR, nonce: Buffer.from('0000000000000882', 'hex') }), 13);
  });

  test('valid for its hour and the next; stale two hours on or an hour early; short with too little work', async () => {
    const stamp = await solveStamp(parties, HOUR, { bits: 12, startNonce: Buffer.alloc(8), ...counting() });
    assert.ok(stamp !== undefined);
    assert.equal(checkStamp(parties, stamp, IN_HOUR_MS, 12), 'valid');
    assert.equal(checkStamp(parties, stamp, IN_HOUR_MS + HOUR_EPOCH_MS, 12), 'valid');
    assert.equal(checkStamp(parties, stamp, IN_HOUR_MS + 2 * HOUR_EPOCH_MS, 12), 'stale');
    assert.equal(checkStamp(parties, stamp, IN_HOUR_MS - HOUR_EPOCH_MS, 12), 'stale');
    assert.equal(checkStamp(parties, stamp, IN_HOUR_MS, 14), 'short');
    assert.equal(checkStamp(parties, stamp, IN_HOUR_MS), 'short', 'the product asks for more than 13 bits');
    assert.ok(REQUEST_STAMP_BITS > 13);
  });

  test('bound to both keys and the hour: the same nonce is worthless for anyone else or another hour', async () => {
    const stamp = await solveStamp(parties, HOUR, { bits: 12, startNonce: Buffer.alloc(8), ...counting() });
    assert.ok(stamp !== undefined);
    const swapped = { recipientPk: requesterPk, requesterPk: recipientPk };
    const other = { recipientPk, requesterPk: Buffer.alloc(32, 0x33) };
    assert.equal(checkStamp(swapped, stamp, IN_HOUR_MS, 12), 'short');
    assert.equal(checkStamp(other, stamp, IN_HOUR_MS, 12), 'short');
    assert.equal(checkStamp(parties, { hour: HOUR - 1, nonce: stamp.nonce }, IN_HOUR_MS, 12), 'short');
    assert.equal(checkStamp(parties, { hour: HOUR, nonce: Buffer.alloc(7) }, IN_HOUR_MS, 1), 'short');
  });

  test('a solve yields every SOLVE_SLICE_ATTEMPTS hashes and can be cancelled between slices', async () => {
    const yields = counting();
    const stamp = await solveStamp(parties, HOUR, { bits: 16, startNonce: Buffer.alloc(8), ...yields });
    assert.ok(stamp !== undefined);
    const attempts = Number(stamp.nonce.readBigUInt64BE(0)) + 1;
    assert.equal(yields.yields, Math.floor((attempts - 1) / SOLVE_SLICE_ATTEMPTS));
    assert.ok(stampWork(parties, stamp) >= 16);
    let slices = 0;
    const cancelled = await solveStamp(parties, HOUR, {
      bits: 32,
      startNonce: Buffer.alloc(8),
      yieldNow: async () => {},
      isCancelled: () => ++slices >= 3,
    });
    assert.equal(cancelled, undefined);
    assert.equal(slices, 3);
  });

  test('the nonce counter carries from its low 32 bits into the high 32', async () => {
    const start = Buffer.from('00000007ffffffff', 'hex');
    const stamp = await solveStamp(parties, HOUR, { bits: 12, startNonce: start, ...counting() });
    assert.ok(stamp !== undefined);
    assert.equal(stamp.nonce.readUInt32BE(0), 8, 'the first nonces tried after 7:ffffffff are 8:00000000 on');
    assert.equal(checkStamp(parties, stamp, IN_HOUR_MS, 12), 'valid');
  });
});
