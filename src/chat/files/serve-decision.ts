/**
 * Whom we serve what (docs/PROTOCOL.md "Files", "Group files"): a peer who opens a file stream names a transfer;
 * this decides whether and what we serve it (piece-server.ts then does). A friend gets a transfer we offered
 * it; a group's file — one we sent, or one we received — goes to a peer that is a current member of that group
 * (and we are), whole once we have it all, the verified pieces while we are still downloading it. Anything else
 * is `unknown`, as for a transfer that does not exist.
 */
import type { FileTransferRows, StoredTransfer } from '../store/file-transfer-rows.ts';
import type { Download } from './download.ts';
import { RefuseReason } from './file-frames.ts';
import { layoutOf } from './file-layout.ts';
import type { ServeDecision } from './piece-server.ts';

export interface ServeContext {
  rows: FileTransferRows;
  /** Is peer a current member of this group, and are we? (undefined: no groups) */
  isCurrentMember: ((groupId: Buffer, peer: Buffer) => boolean) | undefined;
  /** The running download of an incoming transfer. */
  downloadOf(localId: number): Download | undefined;
}

/** The decision, and the transfer it is about when we serve it. */
export function decideServe(
  ctx: ServeContext,
  peer: Buffer,
  transferId: Buffer,
): { decision: ServeDecision; row?: StoredTransfer } {
  const own = ctx.rows.get(peer, transferId);
  const row =
    own !== undefined && own.group === undefined
      ? own
      : ctx.rows
          .groupTransfers(transferId)
          .find((r) => ctx.isCurrentMember?.(r.group as Buffer, peer) === true);
  if (row === undefined) return refuse(RefuseReason.unknown);
  if (row.direction === 'incoming') {
    if (row.group === undefined) return refuse(RefuseReason.unknown);
    if (row.state !== 'complete') return partial(ctx, row);
  } else if (row.state === 'canceled' || row.state === 'declined') {
    return refuse(RefuseReason.canceled);
  } else if (row.state === 'failed') return refuse(RefuseReason.unavailable);
  const layout = layoutOf(row.sizeBytes, row.pieceBytes);
  const hashes = ctx.rows.hashes(row.localId);
  if (
    layout === undefined ||
    hashes === undefined ||
    row.path === undefined ||
    row.sourceModifiedMs === undefined
  ) {
    // Our own offer's file is gone; a received one is not ready to serve yet (its mtime is noted just after).
    return refuse(row.direction === 'incoming' ? RefuseReason.unknown : RefuseReason.unavailable);
  }
  return {
    decision: { ok: true, layout, root: row.root, hashes, path: row.path, modifiedMs: row.sourceModifiedMs },
    row,
  };
}

/** A group file we are downloading: the pieces verified so far, from the partial file (none yet: `unknown`). */
function partial(ctx: ServeContext, row: StoredTransfer): { decision: ServeDecision; row?: StoredTransfer } {
  const download = ctx.downloadOf(row.localId);
  const layout = layoutOf(row.sizeBytes, row.pieceBytes);
  const hashes = ctx.rows.hashes(row.localId);
  if (
    download === undefined ||
    download.isClosed ||
    !download.hasHashes ||
    layout === undefined ||
    hashes === undefined ||
    row.partPath === undefined
  ) {
    return refuse(RefuseReason.unknown);
  }
  const has = download.verifiedPieces();
  if (has.count === 0) return refuse(RefuseReason.unknown);
  return {
    decision: { ok: true, layout, root: row.root, hashes, path: row.partPath, modifiedMs: 0, has },
    row,
  };
}

function refuse(reason: RefuseReason): { decision: ServeDecision } {
  return { decision: { ok: false, reason } };
}
