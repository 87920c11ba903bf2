/** The file layer's local error codes (docs/ERRORS.md, "## files"): what `send-file`, `accept-file`, `cancel` refuse. */
import { DhtchatError } from '../../runtime/index.ts';

export const FileErrorCode = {
  /** The path to send is not there, or cannot be read. */
  notFound: 'FILE_NOT_FOUND',
  /** The path to send is not a regular file (a directory, a device). */
  notAFile: 'FILE_NOT_A_FILE',
  /** Over the size limit (ours when accepting; 256 GiB, the largest layout, when sending). */
  tooLarge: 'FILE_TOO_LARGE',
  /** The file changed while it was read for its hash tree. */
  changed: 'FILE_CHANGED',
  /** No transfer has that id. */
  unknownTransfer: 'FILE_UNKNOWN_TRANSFER',
  /** Several transfers start with that id: type more of it. */
  ambiguousId: 'FILE_AMBIGUOUS_ID',
  /** The transfer is not in a state where that can be done (accepting our own offer, cancelling a finished one). */
  badState: 'FILE_BAD_STATE',
  /** accept-file --to names a file that exists, or a place we cannot write to. */
  target: 'FILE_TARGET',
  /** This node was started without a downloads directory: it cannot receive files. */
  receivingDisabled: 'FILE_RECEIVING_DISABLED',
} as const;

export function fileError(
  code: (typeof FileErrorCode)[keyof typeof FileErrorCode],
  message: string,
  cause?: unknown,
): DhtchatError {
  return new DhtchatError(code, message, cause === undefined ? undefined : { cause });
}
