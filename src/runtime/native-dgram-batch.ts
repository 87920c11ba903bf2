/**
 * Loads our small N-API addon (native/dgram-batch.c, built by `npm ci` through binding.gyp) that reads and
 * writes UDP datagrams in batches with recvmmsg / sendmmsg. It is optional: when it is missing (no compiler at
 * install, not Linux), fails to load, or DHTCHAT_DGRAM_BATCHING=off is set, this returns undefined and callers
 * use node:dgram. The binding's contract is documented at the top of the C file; batched-udp-socket.ts is its
 * only user.
 */
import { createRequire } from 'node:module';

/** The addon's functions; the handle is an opaque object owned by the addon. */
export interface DgramBatchBinding {
  open(options: DgramBatchOpenOptions): object;
  localPort(handle: object): number;
  start(handle: object, onReceive: (count: number) => void, onWritable: () => void): void;
  wantWritable(handle: object, wants: boolean): void;
  /** Sends send slots first … first+count−1 (mod slots); returns how many were consumed (< count: buffer full). */
  flush(handle: object, first: number, count: number): number;
  close(handle: object): void;
}

export interface DgramBatchOpenOptions {
  family: 4 | 6;
  host: string;
  port: number;
  isReusePort: boolean;
  isV6Only: boolean;
  isGro: boolean;
  bufferBytes: number;
  slotBytes: number;
  recvSlots: number;
  recvEntries: number;
  recvData: Buffer;
  recvMeta: Int32Array;
  recvAddr: Buffer;
  sendSlots: number;
  sendData: Buffer;
  sendMeta: Int32Array;
  sendAddr: Buffer;
  status: Int32Array;
}

/** Where the addon may be, relative to this file: from source (src/runtime) and from the bundle (dist). */
const CANDIDATES = ['../../build/Release/dgram_batch.node', '../build/Release/dgram_batch.node'];

let loaded: DgramBatchBinding | null | undefined;
let loadError: string | undefined;

/** The addon, or undefined when it is unavailable or switched off (see loadErrorOfDgramBatch for why). */
export function loadDgramBatch(): DgramBatchBinding | undefined {
  if (loaded !== undefined) return loaded ?? undefined;
  loaded = null;
  if (process.env['DHTCHAT_DGRAM_BATCHING'] === 'off') {
    loadError = 'switched off by DHTCHAT_DGRAM_BATCHING=off';
    return undefined;
  }
  if (process.platform !== 'linux') {
    loadError = 'recvmmsg/sendmmsg are Linux only';
    return undefined;
  }
  const require = createRequire(import.meta.url);
  for (const candidate of CANDIDATES) {
    try {
      loaded = require(candidate) as DgramBatchBinding;
      return loaded;
    } catch (error) {
      loadError = String(error);
    }
  }
  return undefined;
}

/** Why loadDgramBatch returned undefined (for a debug line), or undefined when it loaded. */
export function loadErrorOfDgramBatch(): string | undefined {
  return loaded ? undefined : loadError;
}
