/**
 * Epochs: the clock split into numbered periods, so keys and DHT targets rotate without any exchange. Records use
 * day epochs (a new target each UTC day); friend-request topics use hour epochs. Clocks disagree, so a reader also
 * looks at the neighbouring epoch near a boundary, and a publisher keeps the previous epoch's record alive a while.
 * Times are milliseconds since the Unix epoch, from the injected Clock (never Date.now here).
 */

export const DAY_EPOCH_MS = 86_400_000;
export const HOUR_EPOCH_MS = 3_600_000;
/** Clock skew between friends that readers and publishers tolerate around an epoch boundary. */
export const EPOCH_SKEW_MS = 2 * HOUR_EPOCH_MS;

/** The day epoch of a time: whole UTC days since 1970-01-01. */
export function dayEpoch(nowMs: number): number {
  return Math.floor(nowMs / DAY_EPOCH_MS);
}

/** The hour epoch of a time: whole hours since 1970-01-01. */
export function hourEpoch(nowMs: number): number {
  return Math.floor(nowMs / HOUR_EPOCH_MS);
}

export function dayEpochStartMs(epoch: number): number {
  return epoch * DAY_EPOCH_MS;
}

/**
 * Epochs whose records a reader should fetch at nowMs: the current one, plus the neighbour within skewMs of a
 * boundary (the author's clock may already be, or still be, on the other side). Current epoch first.
 */
export function dayEpochsToFetch(nowMs: number, skewMs = EPOCH_SKEW_MS): number[] {
  const current = dayEpoch(nowMs);
  const epochs = [current];
  if (dayEpoch(nowMs - skewMs) < current) epochs.push(current - 1);
  if (dayEpoch(nowMs + skewMs) > current) epochs.push(current + 1);
  return epochs;
}

/** Epochs a publisher writes at nowMs: the same window, so a skewed reader on either side finds a record. */
export function dayEpochsToPublish(nowMs: number, skewMs = EPOCH_SKEW_MS): number[] {
  return dayEpochsToFetch(nowMs, skewMs);
}

/**
 * The BEP 44 `seq` for a record put at nowMs in `epoch`: seconds since the epoch began (each epoch has its own
 * key, so sequences restart), and always above the last seq we put, so a restart or a clock step back never
 * produces a put that storage nodes refuse (BEP 44 error 302). Seconds, not ms: storage nodes see seq in clear.
 */
export function nextRecordSeq(nowMs: number, epoch: number, lastSeq = -1): number {
  const secondsIntoEpoch = Math.max(0, Math.floor((nowMs - dayEpochStartMs(epoch)) / 1000));
  return Math.max(secondsIntoEpoch, lastSeq + 1);
}
