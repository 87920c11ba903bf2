/**
 * The relay client's error codes (docs/ERRORS.md "## relays"): one per way a join can fail, so the caller can
 * tell a relay that is full or gone (try another) from a partner that did not come (join again while wanted).
 */
import { RelayRefusal } from './relay-protocol.ts';

export const RelayErrorCode = {
  busy: 'RELAY_BUSY',
  sourceLimit: 'RELAY_SOURCE_LIMIT',
  noPartner: 'RELAY_NO_PARTNER',
  tokenInUse: 'RELAY_TOKEN_IN_USE',
  budgetSpent: 'RELAY_BUDGET_SPENT',
  badJoin: 'RELAY_BAD_JOIN',
  notAllowed: 'RELAY_NOT_ALLOWED',
  closing: 'RELAY_CLOSING',
  replaced: 'RELAY_REPLACED',
  /** The relay did not answer the JOIN in time (or the uTP connection never opened). */
  noAnswer: 'RELAY_NO_ANSWER',
  /** The relay sent something that is not a relay frame, or not the one expected. */
  protocol: 'RELAY_PROTOCOL',
  /** The stream to the relay closed or failed before MATCHED. */
  closed: 'RELAY_CLOSED',
  /** The join was cancelled by its owner. */
  cancelled: 'RELAY_CANCELLED',
} as const;
export type RelayErrorCode = (typeof RelayErrorCode)[keyof typeof RelayErrorCode];

const BY_REFUSAL: Record<RelayRefusal, RelayErrorCode> = {
  [RelayRefusal.busy]: RelayErrorCode.busy,
  [RelayRefusal.sourceLimit]: RelayErrorCode.sourceLimit,
  [RelayRefusal.noPartner]: RelayErrorCode.noPartner,
  [RelayRefusal.tokenInUse]: RelayErrorCode.tokenInUse,
  [RelayRefusal.budgetSpent]: RelayErrorCode.budgetSpent,
  [RelayRefusal.badJoin]: RelayErrorCode.badJoin,
  [RelayRefusal.notAllowed]: RelayErrorCode.notAllowed,
  [RelayRefusal.closing]: RelayErrorCode.closing,
  [RelayRefusal.replaced]: RelayErrorCode.replaced,
};

export function relayErrorOf(reason: RelayRefusal): RelayErrorCode {
  return BY_REFUSAL[reason];
}

export const RELAY_ERROR_MESSAGES: Record<RelayErrorCode, string> = {
  RELAY_BUSY: 'the relay is full',
  RELAY_SOURCE_LIMIT: 'the relay holds too many halves from this address',
  RELAY_NO_PARTNER: 'the friend did not come to the relay in time',
  RELAY_TOKEN_IN_USE: "a pair already uses this pair's token on the relay",
  RELAY_BUDGET_SPENT: "this pair's byte budget on the relay is spent for now",
  RELAY_BAD_JOIN: 'the relay refused our join as malformed',
  RELAY_NOT_ALLOWED: 'this relay serves only its own friends',
  RELAY_CLOSING: 'the relay is shutting down',
  RELAY_REPLACED: 'a newer join of ours replaced this one',
  RELAY_NO_ANSWER: 'the relay did not answer',
  RELAY_PROTOCOL: 'the relay broke the relay protocol',
  RELAY_CLOSED: 'the stream to the relay closed before the friend came',
  RELAY_CANCELLED: 'the relay join was cancelled',
};
