/**
 * Contacts: online first, then by name; each shows presence, last seen, typing, how it is reached (direct,
 * hole-punched, relayed, ...) and unread messages.
 */
import type { ContactView } from '../api/api-types.ts';
import { lastSeenText } from '../lib/format-time.ts';
import { pathText } from '../lib/path-words.ts';
import { contacts, isPending, typing, unread } from '../state/contacts.ts';
import { openChat, openChatCode } from '../state/navigation.ts';

const PRESENCE_RANK = { online: 0, away: 1, offline: 2 } as const;

export function ContactList() {
  const list = [...contacts.value].sort(
    (a, b) => PRESENCE_RANK[a.presence] - PRESENCE_RANK[b.presence] || a.name.localeCompare(b.name),
  );
  return (
    <section class="contacts" aria-labelledby="contacts-title">
      <h2 id="contacts-title" class="section-title">
        Friends
      </h2>
      {list.length === 0 ? (
        <p class="hint">No friends yet.</p>
      ) : (
        <ul class="contact-list">
          {list.map((c) => (
            <ContactItem key={c.code} contact={c} />
          ))}
        </ul>
      )}
    </section>
  );
}

function ContactItem({ contact }: { contact: ContactView }) {
  const count = unread.value[contact.code] ?? 0;
  const isTyping = typing.value.has(contact.code);
  const status = statusText(contact, isTyping);
  const path = isPending(contact) ? '' : pathText(contact.path);
  return (
    <li>
      <button
        type="button"
        class="contact-item"
        aria-current={openChatCode() === contact.code ? 'page' : undefined}
        onClick={() => openChat(contact.code)}
      >
        <span class={`presence-dot ${contact.presence}`} aria-hidden="true" />
        <span class="contact-text">
          <bdi class="contact-name">{contact.name}</bdi>
          <span class="contact-status-line">
            <span class="contact-status">{status}</span>
            {path.length > 0 && <span class="contact-path"> · {path}</span>}
          </span>
        </span>
        {count > 0 && (
          <span class="badge">
            {count}
            <span class="visually-hidden"> unread</span>
          </span>
        )}
      </button>
    </li>
  );
}

export function statusText(contact: ContactView, isTyping: boolean): string {
  if (isPending(contact)) return contact.request === 'received' ? 'request received by them' : 'request sent';
  if (isTyping) return 'typing…';
  if (contact.presence === 'online') return 'online';
  return `${contact.presence === 'away' ? 'away' : 'offline'} · last seen ${lastSeenText(contact.lastSeen)}`;
}
