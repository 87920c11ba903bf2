/**
 * Add a friend: paste their code or link, optionally a name for them and a note. The daemon checks the code and
 * its error (wrong length, a character outside the alphabet, a typo caught by the checksum) is shown as the CLI
 * words it.
 */
import { useState } from 'preact/hooks';
import { parsePastedFriend } from '../lib/friend-code-input.ts';
import { announce } from '../state/announcer.ts';
import { addFriend } from '../state/contacts.ts';
import { openChat } from '../state/navigation.ts';
import { Panel } from './panel.tsx';

export function AddFriend() {
  const [pasted, setPasted] = useState('');
  const [name, setName] = useState('');
  const [note, setNote] = useState('');
  const [error, setError] = useState('');
  const [isBusy, setBusy] = useState(false);

  const onPaste = (value: string): void => {
    setPasted(value);
    const suggested = parsePastedFriend(value).suggestedName;
    if (suggested !== undefined && name.length === 0) setName(suggested);
  };

  const submit = async (event: Event): Promise<void> => {
    event.preventDefault();
    setError('');
    const { code } = parsePastedFriend(pasted);
    setBusy(true);
    try {
      const contact = await addFriend(code, {
        ...(name.trim().length > 0 ? { name: name.trim() } : {}),
        ...(note.length > 0 ? { message: note } : {}),
      });
      announce(`friend request sent to ${contact.name}`);
      openChat(contact.code);
    } catch (e) {
      setError(e instanceof Error ? e.message : String(e));
    } finally {
      setBusy(false);
    }
  };

  return (
    <Panel titleId="add-title" title="Add a friend">
      <form onSubmit={(e) => void submit(e)} class="form" noValidate>
        <label for="add-code">Their friend code or link</label>
        <textarea
          id="add-code"
          name="code"
          rows={3}
          value={pasted}
          onInput={(e) => onPaste(e.currentTarget.value)}
          placeholder="dhtchat:…"
          spellcheck={false}
          autocomplete="off"
          aria-describedby={error.length > 0 ? 'add-error' : undefined}
          aria-invalid={error.length > 0}
          required
        />
        <label for="add-name">Name for them (optional)</label>
        <input
          id="add-name"
          name="name"
          value={name}
          onInput={(e) => setName(e.currentTarget.value)}
          maxLength={64}
        />
        <label for="add-note">A note with your request (optional)</label>
        <input id="add-note" name="note" value={note} onInput={(e) => setNote(e.currentTarget.value)} />
        {error.length > 0 && (
          <p id="add-error" class="error" role="alert">
            {error}
          </p>
        )}
        <button type="submit" class="primary" disabled={isBusy || pasted.trim().length === 0}>
          {isBusy ? 'Sending…' : 'Send request'}
        </button>
      </form>
      <p class="hint">
        They see your request within a minute or so, with your name and note, and accept it in their dhtchat.
      </p>
    </Panel>
  );
}
