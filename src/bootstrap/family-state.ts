/**
 * What the bootstrap server keeps per address family: the verified node buffer, the ping queue, the filler
 * ring, and the last requester (for the back-to-back rule). Loopback sources under allowPrivate are keyed by IP
 * and port in the buffer and the queue, since test nodes share 127.0.0.1.
 */
import { FillerNodes } from './filler-nodes.ts';
import { NodeBuffer } from './node-buffer.ts';
import { PingQueue } from './ping-queue.ts';

export interface FamilyState {
  buffer: NodeBuffer;
  queue: PingQueue;
  filler: FillerNodes;
  /** Key of the last non-read-only requester (back-to-back rule). */
  lastKey: Uint8Array;
  lastKeyLength: number;
  /** Whether an address is already in the buffer (bound once: the hot path allocates no closures). */
  isInBuffer(bytes: Uint8Array, ipOffset: number): boolean;
}

export interface FamilyStateOptions {
  nodesCapacity: number;
  pingQueueCapacity: number;
  pingDelayMs: number;
  isPrivateAllowed: boolean;
  growIntervalMs: number | undefined;
  /** A fresh 32-bit hash seed per call. */
  seed(): number;
}

export function createFamilyState(family: 4 | 6, options: FamilyStateOptions): FamilyState {
  const isPrivateAllowed = options.isPrivateAllowed;
  const isPortKeyed =
    family === 4
      ? (b: Uint8Array, o: number): boolean => isPrivateAllowed && b[o] === 127
      : (b: Uint8Array, o: number): boolean => isPrivateAllowed && isV6Loopback(b, o);
  const buffer = new NodeBuffer({
    family,
    capacity: options.nodesCapacity,
    isPortKeyed,
    seed: options.seed(),
    growIntervalMs: options.growIntervalMs,
  });
  return {
    buffer,
    queue: new PingQueue({
      family,
      capacity: options.pingQueueCapacity,
      delayMs: options.pingDelayMs,
      isPortKeyed,
      seed: options.seed(),
    }),
    filler: new FillerNodes(family),
    lastKey: new Uint8Array(18),
    lastKeyLength: 0,
    isInBuffer: (b, o) => buffer.hasAddress(b, o),
  };
}

/** ::1 at bytes[o]. */
function isV6Loopback(bytes: Uint8Array, o: number): boolean {
  for (let k = 0; k < 15; k++) if (bytes[o + k] !== 0) return false;
  return bytes[o + 15] === 1;
}
