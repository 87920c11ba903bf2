/**
 * The form both composers (a friend's, a group's) show: the text field (Enter sends, Shift+Enter starts a new
 * line), + to send a file when the daemon takes files, Send, and the last error. State and sending are the
 * caller's.
 */
import type { Ref } from 'preact';
import { hasFilesApi } from '../state/files.ts';
import { FilePickButton } from './file-pick-button.tsx';

export interface ComposerFormProps {
  /** The text field's id (unique on the page). */
  readonly id: string;
  /** Who the message goes to, as the field's label and the file button's say it. */
  readonly name: string;
  readonly text: string;
  readonly placeholder: string;
  readonly error: string;
  readonly fieldRef?: Ref<HTMLTextAreaElement>;
  onInput(value: string): void;
  onSend(): void;
  onPickFile(file: File): void;
}

export function ComposerForm(props: ComposerFormProps) {
  const errorId = `${props.id}-error`;
  return (
    <form
      class="composer"
      onSubmit={(e) => {
        e.preventDefault();
        props.onSend();
      }}
    >
      <label for={props.id} class="visually-hidden">
        Message to {props.name}
      </label>
      <textarea
        id={props.id}
        ref={props.fieldRef}
        rows={1}
        value={props.text}
        placeholder={props.placeholder}
        onInput={(e) => props.onInput(e.currentTarget.value)}
        onKeyDown={(e) => {
          if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) {
            e.preventDefault();
            props.onSend();
          }
        }}
        aria-describedby={props.error.length > 0 ? errorId : undefined}
      />
      {hasFilesApi.value && (
        <FilePickButton label={`Send a file to ${props.name}`} onPick={props.onPickFile} />
      )}
      <button type="submit" class="primary" disabled={props.text.trim().length === 0}>
        Send
      </button>
      {props.error.length > 0 && (
        <p id={errorId} class="error" role="alert">
          {props.error}
        </p>
      )}
    </form>
  );
}
