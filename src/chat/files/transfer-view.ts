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

export interface FileTransferView {
  /** 32 hex digits (commands take any unique prefix). */
  readonly id: string;
  /** The friend's code. */
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
}
