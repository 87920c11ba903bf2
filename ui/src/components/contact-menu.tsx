/**
 * What can be done about a contact: rename (your name for them; theirs for themself is shown beside it), remove
 * (history kept unless asked), block. An older daemon without rename/remove says so.
 */
import { useState } from 'preact/hooks';
import type { ContactView } from '../api/api-types.ts';
import { announce } from '../state/announcer.ts';
import { blockContact, canEditContacts, removeContact, renameContact } from '../state/contacts.ts';
import { show } from '../state/navigation.ts';
import { Dialog } from './dialog.tsx';

export function ContactMenu({ contact, onClose }: { contact: ContactView; onClose: () => void }) {
  const [name, setName] = useState(contact.name === contact.code ? '' : contact.name);
  const [isForgetting, setForgetting] = useState(false);
  const [error, setError] = useState('');
  const run = async (action: () => Promise<void>, done: string, leave: boolean): Promise<void> => {
    setError('');
    try {
      await action();
      announce(done);
      onClose();
      if (leave) show({ kind: 'home' });
    } catch (e) {
      setError(e instanceof Error ? e.message : String(e));
    }
  };
  const canEdit = canEditContacts.value;
  return (
    <Dialog title="Contact" onClose={onClose}>
      <p class="code small">{contact.code}</p>
      {contact.profileName != null && contact.profileName !== contact.name && (
        <p>
          Calls themself <bdi>“{contact.profileName}”</bdi>
        </p>
      )}
      <form
        class="form"
        onSubmit={(e) => {
          e.preventDefault();
          void run(() => renameContact(contact.code, name.trim()), `renamed to ${name.trim()}`, false);
        }}
      >
        <label for="rename-name">Your name for them</label>
        <input
          id="rename-name"
          value={name}
          maxLength={64}
          onInput={(e) => setName(e.currentTarget.value)}
          disabled={!canEdit}
        />
        <button type="submit" disabled={!canEdit || name.trim().length === 0}>
          Rename
        </button>
      </form>
      <div class="form">
        <label class="checkbox">
          <input
            type="checkbox"
            checked={isForgetting}
            onChange={(e) => setForgetting(e.currentTarget.checked)}
            disabled={!canEdit}
          />
          Also delete our messages
        </label>
        <div class="button-row">
          <button
            type="button"
            disabled={!canEdit}
            onClick={() => void run(() => removeContact(contact.code, isForgetting), 'contact removed', true)}
          >
            Remove contact
          </button>
          <button
            type="button"
            class="danger"
            onClick={() => void run(() => blockContact(contact.code), 'blocked', true)}
          >
            Block
          </button>
        </div>
      </div>
      {!canEdit && <p class="hint">This dhtchat daemon cannot rename or remove contacts yet (update it).</p>}
      {error.length > 0 && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
      <div class="button-row end">
        <button type="button" onClick={onClose}>
          Close
        </button>
      </div>
    </Dialog>
  );
}
