/**
 * Writing a message: Enter sends, Shift+Enter starts a new line. While the user types, the friend is told
 * (POST /v1/typing, at most every 3 s), and told it stopped after 5 s without a key or when the text is cleared.
 * The + button picks a file and hands it to the daemon, which offers it (state/files.ts).
 */
import { useRef, useState } from 'preact/hooks';
import { apiPost } from '../api/api-client.ts';
import { announce } from '../state/announcer.ts';
import type { Conversation } from '../state/conversation.ts';
import { sendFile, uploadErrorText } from '../state/files.ts';
import { ownCode } from '../state/session.ts';
import { useTypingSignal } from '../lib/use-typing-signal.ts';
import { ComposerForm } from './composer-form.tsx';

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
      (e: unknown) => setError(uploadErrorText(e, conversation.code)),
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
    <ComposerForm
      id="composer-text"
      name={name}
      text={text}
      placeholder="Write a message"
      error={error}
      fieldRef={field}
      onInput={onInput}
      onSend={send}
      onPickFile={upload}
    />
  );
}
