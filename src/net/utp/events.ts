/** What a connection reports to its driver (pollEvent) and counts about itself. */
import type { UtpErrorCode } from './errors.ts';

export type UtpEvent =
  /** The handshake completed (at once for an accepted connection). */
  | { type: 'connected' }
  /** In-order bytes wait to be read. */
  | { type: 'readable' }
  /** The unsent queue fell below sendBufferBytes: writers may continue. */
  | { type: 'drain' }
  /** The peer's FIN arrived and every byte before it has been read. */
  | { type: 'end' }
  /** Our FIN was acknowledged: the peer has every byte we wrote. */
  | { type: 'finAcked' }
  /** Both directions finished cleanly. */
  | { type: 'finished' }
  /** The connection is over; errorCode is undefined for a clean or locally reset close. */
  | { type: 'closed'; errorCode: UtpErrorCode | undefined };

export interface ConnectionStats {
  packetsSent: number;
  packetsReceived: number;
  retransmits: number;
  fastRetransmits: number;
  timeouts: number;
  invalidPackets: number;
  refusedPackets: number;
  duplicatePackets: number;
}

export function newConnectionStats(): ConnectionStats {
  return {
    packetsSent: 0,
    packetsReceived: 0,
    retransmits: 0,
    fastRetransmits: 0,
    timeouts: 0,
    invalidPackets: 0,
    refusedPackets: 0,
    duplicatePackets: 0,
  };
}
