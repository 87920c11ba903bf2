/**
 * How a file is cut into pieces (docs/PROTOCOL.md "Files"): every piece pieceBytes long but the last, pieceBytes
 * a power of two. The sender picks the smallest size from DEFAULT_PIECE_BYTES up that keeps the count within
 * MAX_PIECES, so the piece-hash list a receiver fetches first is at most 2 MiB; a receiver checks an offered
 * layout with layoutOf (a value, never a throw: the numbers come from the network).
 */

export const HASH_BYTES = 32;
export const MIN_PIECE_BYTES = 16 * 1024;
export const DEFAULT_PIECE_BYTES = 256 * 1024;
/** A receiver holds a whole piece in memory before it is verified: this bounds what one piece can cost. */
export const MAX_PIECE_BYTES = 4 * 1024 * 1024;
export const MAX_PIECES = 65_536;
/** The largest file any layout describes: 256 GiB. */
export const MAX_LAYOUT_BYTES = MAX_PIECE_BYTES * MAX_PIECES;

export interface FileLayout {
  readonly sizeBytes: number;
  readonly pieceBytes: number;
  readonly pieceCount: number;
}

/** The layout a sender uses for a file of sizeBytes (local: throws RangeError past MAX_LAYOUT_BYTES). */
export function layoutFor(sizeBytes: number): FileLayout {
  if (!Number.isSafeInteger(sizeBytes) || sizeBytes < 0 || sizeBytes > MAX_LAYOUT_BYTES) {
    throw new RangeError(`a file is 0-${MAX_LAYOUT_BYTES} bytes`);
  }
  let pieceBytes = DEFAULT_PIECE_BYTES;
  while (Math.ceil(sizeBytes / pieceBytes) > MAX_PIECES) pieceBytes *= 2;
  return { sizeBytes, pieceBytes, pieceCount: Math.ceil(sizeBytes / pieceBytes) };
}

/** An offered layout, if it is one a sender could have picked within our limits; undefined otherwise. */
export function layoutOf(sizeBytes: number, pieceBytes: number): FileLayout | undefined {
  if (!Number.isSafeInteger(sizeBytes) || sizeBytes < 0 || sizeBytes > MAX_LAYOUT_BYTES) return undefined;
  if (!Number.isSafeInteger(pieceBytes) || pieceBytes < MIN_PIECE_BYTES || pieceBytes > MAX_PIECE_BYTES) {
    return undefined;
  }
  if ((pieceBytes & (pieceBytes - 1)) !== 0) return undefined;
  const pieceCount = Math.ceil(sizeBytes / pieceBytes);
  return pieceCount > MAX_PIECES ? undefined : { sizeBytes, pieceBytes, pieceCount };
}

export function pieceOffset(layout: FileLayout, index: number): number {
  return index * layout.pieceBytes;
}

/** The length of piece index (the last one may be short); 0 outside the file. */
export function pieceLength(layout: FileLayout, index: number): number {
  if (!Number.isInteger(index) || index < 0 || index >= layout.pieceCount) return 0;
  return Math.min(layout.pieceBytes, layout.sizeBytes - index * layout.pieceBytes);
}
