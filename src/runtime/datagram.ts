/**
 * Packet I/O as a seam. A DatagramTransport is one bound UDP endpoint: real (udp-transport.ts), in-memory (the
 * simulator), or a demultiplexed share of one socket (KRPC and uTP on one port).
 */

/** An IP address and port. IPv4 hosts are dotted quads (never IPv4-mapped IPv6); IPv6 hosts are lower-case. */
export interface UdpAddress {
  readonly host: string;
  readonly port: number;
}

export type PacketHandler = (bytes: Buffer, from: UdpAddress) => void;

export interface DatagramTransport {
  /** Queues one datagram; never throws (failures are counted by the transport). */
  send(bytes: Uint8Array, to: UdpAddress): void;
  /** Sets the single receiver of incoming datagrams (replaces any earlier one). */
  onPacket(handler: PacketHandler): void;
  /** The bound address (host may be 0.0.0.0 or ::). */
  localAddress(): UdpAddress;
  close(): void;
}

/** "host:port", with brackets around IPv6 hosts. */
export function formatAddress(address: UdpAddress): string {
  return address.host.includes(':') ? `[${address.host}]:${address.port}` : `${address.host}:${address.port}`;
}

/** A stable map key for an address. */
export function addressKey(address: UdpAddress): string {
  return formatAddress(address);
}

/** Strips the IPv4-mapped prefix a dual-stack socket reports (::ffff:1.2.3.4 becomes 1.2.3.4). */
export function normalizeHost(host: string): string {
  const lower = host.toLowerCase();
  return lower.startsWith('::ffff:') && lower.includes('.') ? lower.slice(7) : lower;
}
