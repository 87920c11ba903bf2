/**
 * The node buffer as bytes, so a restart keeps the verified nodes. A file is a short header ("DCBS", format
 * version, family) followed by the compact entries (26 or 38 bytes each) exactly as the buffer holds them.
 * Reading and writing files is the app layer's job: this file only encodes, decodes, and drives a NodeStore.
 */
import { DhtchatError, type Logger, nullLogger } from '../runtime/index.ts';
import type { BootstrapServer } from './bootstrap-server.ts';

/**
 * Where saved buffers live; the app gives a directory-backed one, tests an in-memory map. A full IPv4 buffer is
 * 260 MB: it is read in pieces and written from its parts, never copied whole.
 */
export interface NodeStore {
  /** Calls onBytes with consecutive pieces of the file (any sizes); false when there is no such file. */
  read(name: string, onBytes: (bytes: Uint8Array) => void): boolean;
  /** Replaces name atomically with the concatenation of parts. */
  write(name: string, parts: readonly Uint8Array[]): void;
}

const MAGIC = [0x44, 0x43, 0x42, 0x53] as const; // "DCBS"
const FORMAT_VERSION = 1;
const HEADER_BYTES = 6;

export function encodeNodeFile(family: 4 | 6, entries: Uint8Array): Buffer {
  return Buffer.concat([nodeFileHeader(family), entries]);
}

function nodeFileHeader(family: 4 | 6): Buffer {
  return Buffer.from([...MAGIC, FORMAT_VERSION, family]);
}

/** The entries of a saved file, or undefined when it is not one of ours for this family (wrong or truncated). */
export function decodeNodeFile(family: 4 | 6, bytes: Uint8Array): Uint8Array | undefined {
  if (bytes.length < HEADER_BYTES) return undefined;
  for (let k = 0; k < MAGIC.length; k++) if (bytes[k] !== MAGIC[k]) return undefined;
  if (bytes[4] !== FORMAT_VERSION || bytes[5] !== family) return undefined;
  const entryBytes = family === 4 ? 26 : 38;
  const body = bytes.subarray(HEADER_BYTES);
  if (body.length % entryBytes !== 0) return undefined;
  return body;
}

/** File name of a worker's buffer for a family. */
export function nodeFileName(workerIndex: number, family: 4 | 6): string {
  return `bootstrap-nodes-${workerIndex}-v${family}.bin`;
}

/** Saves both families' buffers. Throws BOOTSTRAP_SAVE_FAILED when the store fails. */
export function saveNodes(server: BootstrapServer, store: NodeStore, workerIndex: number): void {
  for (const family of [4, 6] as const) {
    try {
      store.write(nodeFileName(workerIndex, family), [nodeFileHeader(family), server.exportNodes(family)]);
    } catch (cause) {
      throw new DhtchatError('BOOTSTRAP_SAVE_FAILED', `could not save the v${family} node buffer`, { cause });
    }
  }
}

/**
 * Loads both families' buffers if present, piece by piece; a foreign file is skipped with a warning, and so is
 * a torn last entry (the complete entries before it are kept).
 */
export function loadNodes(
  server: BootstrapServer,
  store: NodeStore,
  workerIndex: number,
  nowMs: number,
  logger: Logger = nullLogger,
): { nodes4: number; nodes6: number } {
  const added = { nodes4: 0, nodes6: 0 };
  for (const family of [4, 6] as const) {
    const name = nodeFileName(workerIndex, family);
    const reader = new NodeFileReader(family, (entries) => server.importNodes(family, entries, nowMs));
    if (!store.read(name, (bytes) => reader.push(bytes))) continue;
    if (reader.isForeign)
      logger.warn({ event: 'bootstrap-load-skipped', file: name }, 'not a node buffer file');
    else if (reader.tornBytes > 0)
      logger.warn({ event: 'bootstrap-load-torn', file: name }, 'torn last entry');
    if (family === 4) added.nodes4 = reader.added;
    else added.nodes6 = reader.added;
  }
  return added;
}

/** Checks the header, then hands on whole entries as they arrive (pieces may split an entry anywhere). */
class NodeFileReader {
  added = 0;
  isForeign = false;
  readonly #family: 4 | 6;
  readonly #entryBytes: number;
  readonly #importEntries: (entries: Uint8Array) => number;
  /** Header bytes, then at most one partial entry, carried between pieces. */
  readonly #carry: Buffer;
  #carried = 0;
  #isHeaderRead = false;

  constructor(family: 4 | 6, importEntries: (entries: Uint8Array) => number) {
    this.#family = family;
    this.#entryBytes = family === 4 ? 26 : 38;
    this.#importEntries = importEntries;
    this.#carry = Buffer.alloc(Math.max(HEADER_BYTES, this.#entryBytes));
  }

  get tornBytes(): number {
    return this.#isHeaderRead ? this.#carried : 0;
  }

  push(bytes: Uint8Array): void {
    if (this.isForeign) return;
    let at = 0;
    if (!this.#isHeaderRead) {
      at = this.#fill(bytes, 0, HEADER_BYTES);
      if (this.#carried < HEADER_BYTES) return;
      if (decodeNodeFile(this.#family, this.#carry.subarray(0, HEADER_BYTES)) === undefined) {
        this.isForeign = true;
        return;
      }
      this.#isHeaderRead = true;
      this.#carried = 0;
    }
    if (this.#carried > 0) {
      at = this.#fill(bytes, at, this.#entryBytes);
      if (this.#carried < this.#entryBytes) return;
      this.added += this.#importEntries(this.#carry.subarray(0, this.#entryBytes));
      this.#carried = 0;
    }
    const whole = Math.floor((bytes.length - at) / this.#entryBytes) * this.#entryBytes;
    if (whole > 0) this.added += this.#importEntries(bytes.subarray(at, at + whole));
    this.#fill(bytes, at + whole, bytes.length - at - whole);
  }

  /** Copies bytes from `from` into the carry until it holds `upTo` bytes; returns where it stopped. */
  #fill(bytes: Uint8Array, from: number, upTo: number): number {
    const take = Math.min(upTo - this.#carried, bytes.length - from);
    if (take <= 0) return from;
    this.#carry.set(bytes.subarray(from, from + take), this.#carried);
    this.#carried += take;
    return from + take;
  }
}
