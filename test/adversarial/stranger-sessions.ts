/**
 * The attacker's side of the session-level attacks (xx-slot-holding, request-spam): chat sessions opened from
 * identities the victim never accepted, on sockets bound to loopback addresses outside 127.0.0.0/24 (each
 * 127.x.y.z is a host of its own to the victim's per-source limits; Bob and Carol stay on 127.0.0.1). Real
 * sockets, the real clock: this is what a stranger's laptop would run.
 */
import { generateIdentity, type Identity } from '../../src/chat/index.ts';
import { type RequestStamp, solveStamp } from '../../src/chat/request-stamp.ts';
import type { ChatFrame } from '../../src/chat/session/frames.ts';
import { ChatSession, DEFAULT_SESSION_TIMING, type SessionContext } from '../../src/chat/session/session.ts';
import { UtpEndpoint } from '../../src/net/index.ts';
import {
  cryptoRandom,
  nullLogger,
  systemClock,
  type UdpAddress,
  UdpTransport,
} from '../../src/runtime/index.ts';

export interface StrangerHost {
  readonly host: string;
  readonly utp: UtpEndpoint;
  close(): void;
}

/** A uTP endpoint on host:any-port that may hold many connections (the victim's limits are under test). */
export async function strangerHost(host: string): Promise<StrangerHost> {
  const transport = await UdpTransport.bind({ host, port: 0 });
  const utp = new UtpEndpoint({ transport, clock: systemClock, random: cryptoRandom, maxConnections: 8192 });
  return {
    host,
    utp,
    close() {
      utp.close();
      transport.close();
    },
  };
}

export function strangerContext(identity: Identity = generateIdentity(cryptoRandom)): SessionContext {
  return {
    identity,
    clock: systemClock,
    random: cryptoRandom,
    logger: nullLogger,
    timing: DEFAULT_SESSION_TIMING,
  };
}

/** A valid stamp at the product's difficulty: about a second of this process's CPU, in slices. */
export async function paidStamp(recipientPk: Buffer, requesterPk: Buffer): Promise<RequestStamp> {
  const hour = Math.floor(Date.now() / 3_600_000);
  const stamp = await solveStamp({ recipientPk, requesterPk }, hour, {
    startNonce: cryptoRandom.bytes(8),
    yieldNow: () => new Promise((resolve) => setImmediate(resolve)),
  });
  if (stamp === undefined) throw new Error('unreachable: not cancelled');
  return stamp;
}

export interface SentRequest {
  readonly session: ChatSession;
  /** Frames the victim sent back (a request-ack, if any). */
  readonly received: ChatFrame[];
  /** Resolves when the session has closed. */
  readonly closed: Promise<unknown>;
}

/** Opens an XX session to the victim and sends one request frame (held until the handshake completes). */
export function sendRequest(
  ctx: SessionContext,
  from: StrangerHost,
  to: UdpAddress,
  recipientPk: Buffer,
  stamp: RequestStamp,
): SentRequest {
  const session = ChatSession.connect(ctx, from.utp, to, recipientPk, { isXX: true });
  const received: ChatFrame[] = [];
  session.send({ type: 'request', name: 'stranger', message: 'let me in', stamp });
  session.established.then(
    () =>
      session.admit({
        // As a requester does: the answer (an ack) ends the session, so the next request can go.
        onFrame: (frame) => {
          received.push(frame);
          session.close();
        },
        onClose: () => {},
      }),
    () => {},
  );
  // Nothing the victim does may keep an attacker's session open for long; 15 s is far past every deadline.
  const timer = setTimeout(() => session.close(), 15_000);
  const closed = session.closed.finally(() => clearTimeout(timer));
  return { session, received, closed };
}
