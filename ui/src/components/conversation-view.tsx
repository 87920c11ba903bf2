/**
 * A conversation: who (name, presence or last seen, typing), the messages (windowed, older pages on scrolling
 * up), search, the composer, and what can be done about the contact (rename, remove, block). Opening it, and
 * coming back to the tab while it is open, marks their messages read (they then see "read").
 */
import { useEffect, useState } from 'preact/hooks';
import { announce } from '../state/announcer.ts';
import { isReading } from '../state/chat-events.ts';
import { contactOf, markRead, nameOf, typing } from '../state/contacts.ts';
import { conversationOf } from '../state/conversation.ts';
import { pathText } from '../lib/path-words.ts';
import { ENDED_STATES, transfersWith, uploads } from '../state/files.ts';
import { BackButton } from './back-button.tsx';
import { Composer } from './composer.tsx';
import { ContactMenu } from './contact-menu.tsx';
import { statusText } from './contact-list.tsx';
import { MessageList } from './message-list.tsx';
import { SearchBar } from './search-bar.tsx';
import { TransferItem, UploadItem } from './transfer-item.tsx';

export function ConversationView({ code }: { code: string }) {
  const conversation = conversationOf(code);
  const contact = contactOf(code);
  const name = nameOf(code);
  const [isSearching, setSearching] = useState(false);
  const [isMenuOpen, setMenuOpen] = useState(false);
  const [highlightId, setHighlightId] = useState<string | undefined>(undefined);
  const [loadError, setLoadError] = useState('');

  useEffect(() => {
    const readIfVisible = (): void => {
      if (isReading()) void markRead(code).catch(() => {});
    };
    if (!conversation.isLoaded.value) {
      conversation.loadLatest().then(readIfVisible, (e: unknown) => setLoadError(String(e)));
    } else {
      readIfVisible();
    }
    document.addEventListener('visibilitychange', readIfVisible);
    return () => document.removeEventListener('visibilitychange', readIfVisible);
  }, [code]);

  const jumpTo = async (id: string): Promise<void> => {
    if (await conversation.reveal(id)) setHighlightId(id);
    else announce('that message is too far back to show');
  };

  const isTyping = typing.value.has(code);
  return (
    <section class="conversation" aria-labelledby="chat-title">
      <header class="chat-header">
        <BackButton />
        <div class="chat-who">
          <h1 id="chat-title" tabIndex={-1}>
            <bdi>{name}</bdi>
          </h1>
          <p class={`chat-status${isTyping ? ' typing' : ''}`} data-testid="chat-status">
            {contact === undefined ? '' : statusText(contact, isTyping)}
          </p>
          {contact !== undefined && contact.request === undefined && pathText(contact.path).length > 0 && (
            <p class="chat-status" data-testid="chat-path">
              Reached {pathText(contact.path)}
            </p>
          )}
        </div>
        <button
          type="button"
          class="icon-button"
          aria-expanded={isSearching}
          aria-label="Search this conversation"
          onClick={() => setSearching(!isSearching)}
        >
          <span aria-hidden="true">⌕</span>
        </button>
        <button
          type="button"
          class="icon-button"
          aria-haspopup="dialog"
          aria-label={`About ${name}: rename, remove, block`}
          onClick={() => setMenuOpen(true)}
        >
          <span aria-hidden="true">⋯</span>
        </button>
      </header>
      {isSearching && (
        <SearchBar
          conversation={conversation}
          onJump={(id) => void jumpTo(id)}
          onClose={() => setSearching(false)}
        />
      )}
      {loadError.length > 0 && (
        <p class="error" role="alert">
          {loadError}
        </p>
      )}
      <MessageList conversation={conversation} label={`Messages with ${name}`} highlightId={highlightId} />
      <ConversationFiles code={code} name={name} />
      {isTyping && (
        <p class="typing-line" aria-live="polite">
          <bdi>{name}</bdi> is typing…
        </p>
      )}
      <Composer conversation={conversation} name={name} />
      {isMenuOpen && contact !== undefined && (
        <ContactMenu contact={contact} onClose={() => setMenuOpen(false)} />
      )}
    </section>
  );
}

/** The files with this friend still moving, and the last two that ended. */
const ENDED_SHOWN = 2;

function ConversationFiles({ code, name }: { code: string; name: string }) {
  const list = transfersWith(code);
  const shown = [
    ...list.filter((t) => !ENDED_STATES.has(t.state)),
    ...list.filter((t) => ENDED_STATES.has(t.state)).slice(0, ENDED_SHOWN),
  ];
  const sending = [...uploads.value].filter(([, u]) => u.to === code);
  if (shown.length + sending.length === 0) return null;
  return (
    <ul class="transfer-list compact" aria-label={`Files with ${name}`}>
      {sending.map(([key, upload]) => (
        <UploadItem key={key} upload={upload} />
      ))}
      {shown.map((t) => (
        <TransferItem key={t.id} transfer={t} />
      ))}
    </ul>
  );
}
