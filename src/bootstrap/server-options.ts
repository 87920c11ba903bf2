/** Configuration of the bootstrap server core: its sockets, secrets, sizes, timers and rules. */
import type { Logger, UdpAddress } from '../runtime/index.ts';

/**
 * Sends bytes[0..length) to the compact address (ip then big-endian port; 6 bytes for IPv4, 18 for IPv6) at
 * addr[addrOffset]; returns false when it shed the datagram instead (then the server reuses the output slot).
 * bytes stays untouched until 1023 further datagrams were sent (the server's output ring), so a sender must
 * never let more than that wait in a queue; addr may change as soon as this returns.
 */
export type DatagramSender = (
  bytes: Buffer,
  length: number,
  addr: Uint8Array,
  addrOffset: number,
  addrLength: number,
) => boolean;

export interface BootstrapSocket {
  family: 4 | 6;
  /** Our BEP 42 id on this socket. */
  ownId: Buffer;
  send: DatagramSender;
}

export interface BootstrapServerOptions {
  sockets: readonly BootstrapSocket[];
  /** Shared by every worker so a pong may reach another worker than the one that pinged (≥ 16 bytes). */
  masterSecret: Buffer;
  /** 32-bit seeds for the hash tables and a source of x-pollination targets. */
  randomBytes(n: number): Buffer;
  logger?: Logger;
  /** Node buffer capacity per family (default 10,000,000). */
  nodesCapacity?: number;
  /** Ping queue capacity per family (default 5,000,000). */
  pingQueueCapacity?: number;
  /** Nodes per family in a reply (default 16). */
  responseSize?: number;
  /** Nodes per family in a reply to a repeat requester (default 3). */
  repeatResponseSize?: number;
  pingDelayMs?: number;
  secretRotateMs?: number;
  /** Serve private and loopback sources (loopback keyed by ip and port). */
  isPrivateAllowed?: boolean;
  /** Check BEP 42 ids of pongs (default true). */
  isIdVerified?: boolean;
  /** BEP 5 `v`: 4 bytes. */
  version?: Buffer;
  /** Another bootstrap server to ask for nodes while our queue is nearly empty. */
  crossPollinate?: UdpAddress;
  crossPollinateIntervalMs?: number;
  /** Recent-requester set size (default 1,000,000) and window (default 10 minutes). */
  recentCapacity?: number;
  recentWindowMs?: number;
  /** Node buffer ring growth interval (default 15 minutes). */
  growIntervalMs?: number;
}
