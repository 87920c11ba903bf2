/** Tunables of one uTP connection, with defaults. Protocol constants are in header.ts; these are policy. */
import { CCONTROL_TARGET_US, HEADER_BYTES, MIN_TIMEOUT_MS } from './header.ts';

export interface UtpConfig {
  /** Largest datagram we send, header included (1420 keeps IP+UDP+uTP under a 1500-byte MTU with room for a tunnel). */
  maxPacketBytes: number;
  /**
   * Datagram size between two dhtchat endpoints over loopback, agreed in the handshake (header.ts,
   * EXTENSION_DHTCHAT_PACKET_SIZE); 0 turns it off. Per-datagram cost dominates a uTP stream in Node (one
   * sendmsg each), so this is what lets a local stream approach TCP. Never used towards other implementations
   * (libtorrent silently truncates big datagrams) nor off the host (IP fragmentation would lose whole packets).
   */
  localPacketBytes: number;
  /** Receive window: the most we buffer (reordered + unread) and advertise as wnd_size. */
  recvBufferBytes: number;
  /** Unsent bytes above which the connection asks writers to wait (the stream's backpressure). */
  sendBufferBytes: number;
  /**
   * Retransmission timeout floor (BEP 29: 500 ms) and the ceiling that doubling stops at (an RTT-derived timeout
   * may exceed it). A low ceiling keeps probing a silent peer often, so a lossy but live path is not declared
   * dead within peerTimeoutMs.
   */
  minTimeoutMs: number;
  maxTimeoutMs: number;
  /** A SYN not answered within this fails with UTP_CONNECT_TIMEOUT. */
  connectTimeoutMs: number;
  /** With data outstanding and nothing heard for this long (and at least two timeouts), the peer is dead. */
  peerTimeoutMs: number;
  /** An idle connection sends an ST_STATE this often to hold NAT mappings open (libtorrent: 29 s). */
  keepaliveMs: number;
  /** An ack owed for in-order data waits at most this long for more data to share it. */
  delayedAckMs: number;
  /**
   * ...or until this many packets are owed an ack. libtorrent acks once per socket drain; 8 cuts the ack traffic
   * (and ~25 % of the CPU per MiB on loopback) against TCP's 2. Out-of-order packets are acked at once anyway.
   */
  ackEveryPackets: number;
  /** After our FIN is acked, how long we wait for the peer's FIN before closing anyway. */
  finWaitMs: number;
  /** After a clean close, how long the connection id is kept to re-ack a resent FIN (TIME_WAIT). */
  lingerMs: number;
  /** LEDBAT target queuing delay (BEP 29: 100 ms). */
  targetDelayUs: number;
  /** Cap on the congestion window, and on packets in flight (the selective ACK covers 1024). */
  maxWindowBytes: number;
  maxPacketsInFlight: number;
}

/**
 * 32,000 measured fastest on Linux loopback (9,000: ~40 % more CPU per MiB; 60,000: no better). macOS refuses
 * UDP datagrams above net.inet.udp.maxdgram (9,216 by default) with EMSGSIZE, so it gets 9,000 there.
 */
const LOCAL_PACKET_BYTES = process.platform === 'darwin' ? 9000 : 32_000;

export const DEFAULT_UTP_CONFIG: Readonly<UtpConfig> = {
  maxPacketBytes: 1420,
  localPacketBytes: LOCAL_PACKET_BYTES,
  recvBufferBytes: 1024 * 1024,
  sendBufferBytes: 1024 * 1024,
  minTimeoutMs: MIN_TIMEOUT_MS,
  maxTimeoutMs: 3000,
  connectTimeoutMs: 8000,
  peerTimeoutMs: 20_000,
  keepaliveMs: 29_000,
  delayedAckMs: 3,
  ackEveryPackets: 8,
  finWaitMs: 10_000,
  lingerMs: 3000,
  targetDelayUs: CCONTROL_TARGET_US,
  maxWindowBytes: 8 * 1024 * 1024,
  maxPacketsInFlight: 1000,
};

export function resolveConfig(partial: Partial<UtpConfig> = {}): UtpConfig {
  const config = { ...DEFAULT_UTP_CONFIG, ...partial };
  config.maxPacketBytes = Math.max(HEADER_BYTES + 1, Math.min(65_000, config.maxPacketBytes));
  config.localPacketBytes = Math.max(0, Math.min(65_000, config.localPacketBytes));
  config.maxPacketsInFlight = Math.max(4, Math.min(1000, config.maxPacketsInFlight));
  return config;
}
