import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  DAY_EPOCH_MS,
  dayEpoch,
  dayEpochStartMs,
  dayEpochsToFetch,
  dayEpochsToPublish,
  HOUR_EPOCH_MS,
  hourEpoch,
  nextRecordSeq,
} from '../../src/chat/index.ts';

const NOV_25_2026 = Date.UTC(2026, 10, 25);

describe('epochs', () => {
  test('day and hour epochs are whole UTC days and hours', () => {
    const day = dayEpoch(NOV_25_2026);
    assert.equal(day, 20_782);
    assert.equal(dayEpoch(NOV_25_2026 + DAY_EPOCH_MS - 1), day);
    assert.equal(dayEpoch(NOV_25_2026 + DAY_EPOCH_MS), day + 1);
    assert.equal(dayEpochStartMs(day), NOV_25_2026);
    assert.equal(hourEpoch(NOV_25_2026 + 90 * 60_000), day * 24 + 1);
  });

  test('near a boundary, the neighbouring epoch is fetched and published too', () => {
    const day = dayEpoch(NOV_25_2026);
    assert.deepEqual(dayEpochsToFetch(NOV_25_2026 + 12 * HOUR_EPOCH_MS), [day]);
    assert.deepEqual(dayEpochsToFetch(NOV_25_2026 + HOUR_EPOCH_MS), [day, day - 1]);
    assert.deepEqual(dayEpochsToFetch(NOV_25_2026 + DAY_EPOCH_MS - HOUR_EPOCH_MS), [day, day + 1]);
    assert.deepEqual(dayEpochsToPublish(NOV_25_2026 + 30 * 60_000), [day, day - 1]);
    assert.deepEqual(dayEpochsToFetch(NOV_25_2026 + 1, 0), [day]);
  });

  test('record seq: seconds into the epoch, always above the last one', () => {
    const day = dayEpoch(NOV_25_2026);
    assert.equal(nextRecordSeq(NOV_25_2026 + 90_500, day), 90);
    assert.equal(nextRecordSeq(NOV_25_2026 + 90_500, day, 90), 91);
    assert.equal(nextRecordSeq(NOV_25_2026 + 10_000, day, 500), 501, 'clock stepped back');
    assert.equal(nextRecordSeq(NOV_25_2026 - 5_000, day), 0, 'publishing early into the next epoch');
    let last = -1;
    for (let t = 0; t < 100; t++) {
      const seq = nextRecordSeq(NOV_25_2026 + (t % 7) * 300, day, last);
      assert.ok(seq > last);
      last = seq;
    }
  });
});
