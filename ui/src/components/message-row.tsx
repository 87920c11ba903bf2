/** One message: its text, its time and, for ours, its mark (sending, sent, in the DHT, delivered, read). */
import { Component } from 'preact';
import type { MessageState } from '../api/api-types.ts';
import { clockTime } from '../lib/format-time.ts';
import type { ChatLine } from '../state/conversation.ts';
import { MessageText } from './message-text.tsx';

/** Each state's mark: a symbol for the eye and words for everyone else (aria-label, title). */
const MARKS: Record<MessageState | 'sending', { symbol: string; words: string }> = {
  sending: { symbol: '◷', words: 'sending' },
  queued: { symbol: '✓', words: 'sent' },
  stored: { symbol: '☁', words: 'in the DHT (waiting for them to come online)' },
  delivered: { symbol: '✓✓', words: 'delivered' },
  read: { symbol: '✓✓', words: 'read' },
};

interface MessageRowProps {
  readonly line: ChatLine;
  readonly isMine: boolean;
  readonly isHighlighted: boolean;
  readonly onDiscard: (id: string) => void;
}

/**
 * Drawn again only when its message changed: while scrolling, the list redraws every frame, and the rows that
 * stay in view need no work.
 */
export class MessageRowItem extends Component<MessageRowProps> {
  override shouldComponentUpdate(next: MessageRowProps): boolean {
    const now = this.props;
    return next.line !== now.line || next.isMine !== now.isMine || next.isHighlighted !== now.isHighlighted;
  }

  override render() {
    return <MessageRow {...this.props} />;
  }
}

export function MessageRow({ line, isMine, isHighlighted, onDiscard }: MessageRowProps) {
  const mark = MARKS[line.isSending === true ? 'sending' : line.state];
  return (
    <div
      class={`bubble ${isMine ? 'mine' : 'theirs'}${isHighlighted ? ' highlighted' : ''}`}
      data-message-id={line.id}
    >
      <MessageText text={line.text} />
      <span class="meta">
        <time dateTime={new Date(line.ts).toISOString()}>{clockTime(line.ts)}</time>
        {isMine && line.failure === undefined && (
          <span
            class="mark"
            data-state={line.isSending === true ? 'sending' : line.state}
            role="img"
            aria-label={mark.words}
            title={mark.words}
          >
            {mark.symbol}
          </span>
        )}
      </span>
      {line.failure !== undefined && (
        <p class="error send-failure" role="alert">
          Not sent: {line.failure}{' '}
          <button type="button" class="link-button" onClick={() => onDiscard(line.id)}>
            Dismiss
          </button>
        </p>
      )}
    </div>
  );
}
