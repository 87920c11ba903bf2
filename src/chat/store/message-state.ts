/**
 * Message states and the one rule about them: a message only moves forward. The strings are the API and CLI
 * contract (issue 5): `queued` (nowhere but here), `stored` (waiting in the DHT for an offline friend),
 * `delivered`, `read`. Forward jumps are allowed (queued→delivered when the friend was online; a read receipt
 * that overtook its delivery receipt moves queued/stored straight to read); anything else (the same state again,
 * or backwards) is a no-op, never an error: receipts are remote input and arrive duplicated and reordered.
 */
import { DhtchatError } from '../../runtime/index.ts';
import { ChatStoreErrorCode } from './store-errors.ts';

export const MessageState = {
  queued: 'queued',
  stored: 'stored',
  delivered: 'delivered',
  read: 'read',
} as const;
export type MessageState = (typeof MessageState)[keyof typeof MessageState];

export const MESSAGE_STATES: readonly MessageState[] = ['queued', 'stored', 'delivered', 'read'];

const RANK: Record<MessageState, number> = { queued: 0, stored: 1, delivered: 2, read: 3 };

export function isMessageState(value: unknown): value is MessageState {
  return typeof value === 'string' && Object.hasOwn(RANK, value);
}

/** True when moving from `from` to `to` is a move forward (the only kind the store performs). */
export function canAdvance(from: MessageState, to: MessageState): boolean {
  return RANK[to] > RANK[from];
}

/** UTF-8 text limit per message (issue 5: "UTF-8 text up to 16 KiB per message"), counted in bytes. */
export const MAX_MESSAGE_TEXT_BYTES = 16 * 1024;

/** Throws CHAT_MESSAGE_TOO_LARGE when text is longer than MAX_MESSAGE_TEXT_BYTES once encoded as UTF-8. */
export function checkMessageText(text: string): void {
  const bytes = Buffer.byteLength(text, 'utf8');
  if (bytes > MAX_MESSAGE_TEXT_BYTES) {
    throw new DhtchatError(
      ChatStoreErrorCode.messageTooLarge,
      `message is ${bytes} bytes of UTF-8; the limit is ${MAX_MESSAGE_TEXT_BYTES} bytes (16 KiB)`,
    );
  }
}
