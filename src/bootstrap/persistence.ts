/**
 * The node buffer as bytes, so a restart keeps the verified nodes. A file is a short header ("DCBS", format
 * version, family) followed by the compact entries (26 or 38 bytes each) exactly as the buffer holds them.
 * Reading and writing files is the app layer's job: this file only encodes, decodes, and drives a NodeStore.
 */
import { DhtchatError, type Logger, nullLogger } from '../runtime/index.ts';
import type { BootstrapServer } from './bootstrap-server.ts';

/** Where saved buffers live; the app gives a directory-backed one, tests an in-memory map. */
export interface NodeStore {
  read(name: string): Uint8Array | undefined;
  /** Replaces name atomically with bytes. */
  write(name: string, bytes: Uint8Array): void;
}

const MAGIC = [0x44, 0x43, 0x42, 0x53] as const; // "DCBS"
const FORMAT_VERSION = 1;
const HEADER_BYTES = 6;

export function encodeNodeFile(family: 4 | 6, entries: Uint8Array): Buffer {
  const out = Buffer.alloc(HEADER_BYTES + entries.length);
  out.set(MAGIC, 0);
  out[4] = FORMAT_VERSION;
  out[5] = family;
  out.set(entries, HEADER_BYTES);
  return out;
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
      store.write(nodeFileName(workerIndex, family), encodeNodeFile(family, server.exportNodes(family)));
    } catch (cause) {
      throw new DhtchatError('BOOTSTRAP_SAVE_FAILED', `could not save the v${family} node buffer`, { cause });
    }
  }
}

/** Loads both families' buffers if present; unreadable or foreign files are skipped with a warning. */
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
    const bytes = store.read(name);
    if (bytes === undefined) continue;
    const entries = decodeNodeFile(family, bytes);
    if (entries === undefined) {
      logger.warn({ event: 'bootstrap-load-skipped', file: name }, 'not a node buffer file');
      continue;
    }
    const n = server.importNodes(family, entries, nowMs);
    if (family === 4) added.nodes4 = n;
    else added.nodes6 = n;
  }
  return added;
}
