/**
 * Hashing a file we are about to offer: every piece's hash (hash-tree.ts) read from the disk in order, then the
 * root. The file must not change meanwhile: its size and mtime are checked before and after, and a change is
 * FILE_CHANGED (the offer would promise a file that is not there). About 2 ms of CPU per MiB on the reference
 * VM (docs/BENCHMARKS.md "Files"), spread over the event loop one read at a time.
 */
import {
  type FileLayout,
  HASH_BYTES,
  layoutFor,
  MAX_LAYOUT_BYTES,
  pieceLength,
  pieceOffset,
} from './file-layout.ts';
import { FileErrorCode, fileError } from './file-errors.ts';
import type { FileSystem } from './file-system.ts';
import { fileRoot, pieceHash } from './hash-tree.ts';

export interface HashedFile {
  readonly layout: FileLayout;
  readonly hashes: Buffer;
  readonly root: Buffer;
  readonly modifiedMs: number;
}

export async function hashFile(fs: FileSystem, path: string): Promise<HashedFile> {
  const before = await fs.stat(path).catch(() => undefined);
  if (before === undefined) throw fileError(FileErrorCode.notFound, `no file ${path}`);
  if (!before.isFile) throw fileError(FileErrorCode.notAFile, `${path} is not a regular file`);
  if (before.sizeBytes > MAX_LAYOUT_BYTES) {
    throw fileError(
      FileErrorCode.tooLarge,
      `${path} is over ${MAX_LAYOUT_BYTES} bytes, the most one transfer carries`,
    );
  }
  const layout = layoutFor(before.sizeBytes);
  const hashes = Buffer.alloc(layout.pieceCount * HASH_BYTES);
  let handle: Awaited<ReturnType<FileSystem['openRead']>>;
  try {
    handle = await fs.openRead(path);
  } catch (cause) {
    throw fileError(FileErrorCode.notFound, `cannot read ${path}`, cause);
  }
  // One buffer for every read: a fresh one per piece is memory to fault in and, past 64 MiB or so, a full
  // garbage collection (external memory pressure) every few hundred pieces.
  const scratch = Buffer.allocUnsafeSlow(layout.pieceBytes);
  try {
    for (let i = 0; i < layout.pieceCount; i++) {
      const piece = await handle.read(pieceOffset(layout, i), pieceLength(layout, i), scratch);
      if (piece.length !== pieceLength(layout, i))
        throw fileError(FileErrorCode.changed, `${path} shrank while it was read`);
      pieceHash(piece).copy(hashes, i * HASH_BYTES);
    }
  } finally {
    await handle.close().catch(() => {});
  }
  const after = await fs.stat(path).catch(() => undefined);
  if (after?.sizeBytes !== before.sizeBytes || after.modifiedMs !== before.modifiedMs) {
    throw fileError(
      FileErrorCode.changed,
      `${path} changed while it was read; send it again once it is still`,
    );
  }
  return { layout, hashes, root: fileRoot(layout, hashes), modifiedMs: before.modifiedMs };
}
