/** A file transfer as ChatNode hands it out: `files --json`, the API, and the `file` event, field for field. */
export const TRANSFER_VIEW_STATES = [
  'offered',
  'accepted',
  'transferring',
  'complete',
  'canceled',
  'declined',
  'failed',
] as const;
export type TransferViewState = (typeof TRANSFER_VIEW_STATES)[number];

/** One source of a running download: what it sent so far. */
export interface TransferSourceView {
  /** Its friend code. */
  readonly with: string;
  /** Verified pieces it sent. */
  readonly pieces: number;
  /** Pieces that failed their hash (in a group, one bans the source from the transfer). */
  readonly badPieces: number;
  readonly isBanned: boolean;
  /** A stream with it is open now. */
  readonly isConnected: boolean;
}

export interface FileTransferView {
  /** 32 hex digits (commands take any unique prefix). */
  readonly id: string;
  /** The friend's code; a group's transfer: its author's (ours for our own). */
  readonly with: string;
  readonly direction: 'outgoing' | 'incoming';
  /** Incoming: the sender's name made safe (what the file will be called); outgoing: the name offered. */
  readonly name: string;
  readonly size: number;
  /**
   * offered (waiting for the receiver), accepted (waiting for a stream: the other side is offline), transferring
   * (a stream is moving pieces), complete, canceled, declined, failed (see reason).
   */
  readonly state: TransferViewState;
  /** Incoming: verified bytes on the disk; outgoing: bytes of distinct pieces sent since the daemon started. */
  readonly bytesDone: number;
  /** Over the last 2 s. */
  readonly bytesPerSec: number;
  readonly reason: string | null;
  /** Outgoing: the file served; incoming: where the file is once complete. */
  readonly path: string | null;
  /** Unix ms. */
  readonly createdAt: number;
  /** The group it was offered in (64 hex digits); null: a friend's transfer. */
  readonly group: string | null;
  /**
   * Incoming: every source the download used, with per-source counters (kept in memory after it ends, until the
   * daemon restarts; empty otherwise).
   */
  readonly sources: readonly TransferSourceView[];
}
