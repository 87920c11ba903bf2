/**
 * What a store operation (announce_peer / put) achieved, over every address family: the per-family outcomes of
 * traversal.ts merged for the DhtNode facade.
 */
import type { StoreOutcome } from './traversal.ts';

export interface StoreResult {
  /** Nodes that acknowledged the store. */
  stored: number;
  /** KRPC error answers by code, e.g. { 301: 2 } (cas mismatch) or { 302: 1 } (seq lower than stored). */
  errorCodes: Record<number, number>;
}

export function mergeOutcomes(outcomes: readonly StoreOutcome[]): StoreResult {
  const errorCodes: Record<number, number> = {};
  let stored = 0;
  for (const o of outcomes) {
    stored += o.stored;
    for (const [code, n] of Object.entries(o.errorCodes))
      errorCodes[Number(code)] = (errorCodes[Number(code)] ?? 0) + n;
  }
  return { stored, errorCodes };
}
