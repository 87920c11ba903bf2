/**
 * Joining a relay: open a uTP stream to it, send JOIN, wait for WAITING then MATCHED. What the stream carries
 * after MATCHED is the partner's, byte for byte: the caller runs its Noise session over it.
 *
 *   const attempt = joinRelay({ utp, relay, join: { role, tokens }, clock });
 *   const stream = await attempt.matched;   // paused: attach the reader, then stream.resume()
 *   attempt.cancel();                       // gives up (a session came up another way)
 *
 * Fails with a DhtchatError whose code says why (relay-errors.ts): the relay's refusal, no answer within
 * answerTimeoutMs (no WAITING), no MATCHED within the announced wait plus waitGraceMs, a broken frame, or the
 * stream closing first. Bytes that came with MATCHED in one chunk are put back on the stream, unread.
 */
import type { Duplex } from 'node:stream';
import { type Clock, DhtchatError, formatAddress, type Timer, type UdpAddress } from '../../runtime/index.ts';
import type { UtpEndpoint } from '../utp/endpoint.ts';
import { UtpStream } from '../utp/stream.ts';
import { RELAY_ERROR_MESSAGES, RelayErrorCode, relayErrorOf } from './relay-errors.ts';
import { encodeRelayFrame, type RelayJoin, RelayFrameReader } from './relay-protocol.ts';

export const RELAY_CLIENT_TIMING = {
  /** From the uTP dial to WAITING (or MATCHED): a relay that does not answer by then is taken for gone. */
  answerTimeoutMs: 10_000,
  /** Beyond the wait the relay announced, before we give up on MATCHED ourselves. */
  waitGraceMs: 5000,
} as const;

export interface RelayJoinOptions {
  readonly utp: UtpEndpoint;
  readonly relay: UdpAddress;
  readonly join: RelayJoin;
  readonly clock: Clock;
  readonly answerTimeoutMs?: number;
  readonly waitGraceMs?: number;
}

export interface RelayJoinAttempt {
  readonly relay: UdpAddress;
  /** The stream, paused, right after MATCHED. */
  readonly matched: Promise<Duplex>;
  /** The relay accepted the join and holds our half (WAITING came). */
  readonly isWaiting: boolean;
  cancel(): void;
}

export function joinRelay(opts: RelayJoinOptions): RelayJoinAttempt {
  const answerTimeoutMs = opts.answerTimeoutMs ?? RELAY_CLIENT_TIMING.answerTimeoutMs;
  const waitGraceMs = opts.waitGraceMs ?? RELAY_CLIENT_TIMING.waitGraceMs;
  let isWaiting = false;
  let isSettled = false;
  let timer: Timer | undefined;
  let stream: UtpStream | undefined;
  let resolveMatched: (stream: Duplex) => void = () => {};
  let rejectMatched: (error: Error) => void = () => {};
  const matched = new Promise<Duplex>((resolve, reject) => {
    resolveMatched = resolve;
    rejectMatched = reject;
  });
  matched.catch(() => {});
  const fail = (code: RelayErrorCode): void => {
    if (isSettled) return;
    isSettled = true;
    timer?.cancel();
    stream?.destroy();
    rejectMatched(new DhtchatError(code, `${RELAY_ERROR_MESSAGES[code]} (${formatAddress(opts.relay)})`));
  };
  const arm = (delayMs: number, code: RelayErrorCode): void => {
    timer?.cancel();
    timer = opts.clock.setTimer(delayMs, () => fail(code));
  };
  try {
    stream = new UtpStream(opts.utp.connect(opts.relay), { allowHalfOpen: true });
  } catch {
    // No uTP slot for our dial, or the endpoint is closed: as good as a relay that does not answer.
    fail(RelayErrorCode.noAnswer);
    return { relay: opts.relay, matched, isWaiting: false, cancel: () => {} };
  }
  const own = stream;
  arm(answerTimeoutMs, RelayErrorCode.noAnswer);
  const reader = new RelayFrameReader();
  const onData = (chunk: Buffer): void => {
    let input = chunk;
    while (!isSettled) {
      const read = reader.push(input);
      if (read.kind === 'need-more') return;
      if (read.kind === 'error') {
        fail(RelayErrorCode.protocol);
        return;
      }
      const frame = read.frame;
      if (frame.type === 'waiting' && !isWaiting) {
        isWaiting = true;
        arm(frame.waitSeconds * 1000 + waitGraceMs, RelayErrorCode.noPartner);
      } else if (frame.type === 'matched') {
        isSettled = true;
        timer?.cancel();
        own.off('data', onData);
        own.off('end', onEnd);
        own.off('close', onEnd);
        own.pause();
        if (read.rest.length > 0) own.unshift(read.rest);
        resolveMatched(own);
        return;
      } else if (frame.type === 'refused') {
        fail(relayErrorOf(frame.reason));
        return;
      } else {
        fail(RelayErrorCode.protocol);
        return;
      }
      if (read.rest.length === 0) return;
      input = read.rest;
    }
  };
  // Gone before WAITING: the relay never took the join (no uTP answer, a reset, a refused connection).
  const onEnd = (): void => fail(isWaiting ? RelayErrorCode.closed : RelayErrorCode.noAnswer);
  own.on('data', onData);
  own.on('end', onEnd);
  own.on('close', onEnd);
  // After MATCHED the owner listens for errors; until then a failure is ours to report.
  own.on('error', onEnd);
  own.write(encodeRelayFrame({ type: 'join', join: opts.join }));
  return {
    relay: opts.relay,
    matched,
    get isWaiting() {
      return isWaiting;
    },
    cancel: () => fail(RelayErrorCode.cancelled),
  };
}
