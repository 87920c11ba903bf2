/**
 * Writing a message: Enter sends, Shift+Enter starts a new line. While the user types, the friend is told
 * (POST /v1/typing, at most every 3 s), and told it stopped after 5 s without a key or when the text is cleared.
 * The + button picks a file and hands it to the daemon, which offers it (state/files.ts).
 */
import { useRef, useState } from 'preact/hooks';
import { apiPost } from '../api/api-client.ts';
import { announce } from '../state/announcer.ts';
import type { Conversation } from '../state/conversation.ts';
import { canUpload, hasFilesApi, sendFile } from '../state/files.ts';
import { ownCode } from '../state/session.ts';
import { useTypingSignal } from '../lib/use-typing-signal.ts';
import { FilePickButton } from './file-pick-button.tsx';

/** The daemon's limit: 16 KiB of UTF-8 per message. */
const MAX_MESSAGE_BYTES = 16 * 1024;

export function Composer({ conversation, name }: { conversation: Conversation; name: string }) {
  const [text, setText] = useState('');
  const [error, setError] = useState('');
  const field = useRef<HTMLTextAreaElement>(null);

  const upload = (file: File): void => {
    setError('');
    sendFile(conversation.code, file).then(
      () => announce(`${file.name} offered to ${name}`),
      (e: unknown) => {
        const message = e instanceof Error ? e.message : String(e);
        setError(
          canUpload.value
            ? message
            : `This dhtchat daemon cannot take a file from the browser. In a terminal: npx dhtchat send-file ${conversation.code} <file>`,
        );
      },
    );
  };

  const typing = useTypingSignal(conversation.code, (isTyping) => {
    void apiPost('/v1/typing', { who: conversation.code, isTyping }).catch(() => {});
  });
  const onInput = (value: string): void => {
    setText(value);
    setError('');
    typing.typed(value);
  };

  const send = (): void => {
    if (text.trim().length === 0) return;
    if (new TextEncoder().encode(text).length > MAX_MESSAGE_BYTES) {
      setError('This message is over 16 KiB; split it up.');
      return;
    }
    typing.sent();
    void conversation.send(text, ownCode.value);
    setText('');
    field.current?.focus();
  };

  return (
    <form
      class="composer"
      onSubmit={(e) => {
        e.preventDefault();
        send();
      }}
    >
      <label for="composer-text" class="visually-hidden">
        Message to {name}
      </label>
      <textarea
        id="composer-text"
        ref={field}
        rows={1}
        value={text}
        placeholder="Write a message"
        onInput={(e) => onInput(e.currentTarget.value)}
        onKeyDown={(e) => {
          if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) {
            e.preventDefault();
            send();
          }
        }}
        aria-describedby={error.length > 0 ? 'composer-error' : undefined}
      />
      {hasFilesApi.value && <FilePickButton label={`Send a file to ${name}`} onPick={upload} />}
      <button type="submit" class="primary" disabled={text.trim().length === 0}>
        Send
      </button>
      {error.length > 0 && (
        <p id="composer-error" class="error" role="alert">
          {error}
        </p>
      )}
    </form>
  );
}
