/**
 * Search in a conversation: the daemon searches all of it (GET /v1/search) when it can; an older daemon without
 * that call gets the messages loaded in the page searched instead. A hit pages back to its message and shows it.
 */
import { useEffect, useRef, useState } from 'preact/hooks';
import { apiGet, isMissingRoute } from '../api/api-client.ts';
import type { FoundMessage, MessageView } from '../api/api-types.ts';
import { clockTime, dayLabel } from '../lib/format-time.ts';
import type { Conversation } from '../state/conversation.ts';

const MAX_RESULTS = 50;
const DEBOUNCE_MS = 250;

export function SearchBar({
  conversation,
  onJump,
  onClose,
}: {
  conversation: Conversation;
  onJump: (id: string) => void;
  onClose: () => void;
}) {
  const [query, setQuery] = useState('');
  const [results, setResults] = useState<readonly MessageView[]>([]);
  const [note, setNote] = useState('');
  const field = useRef<HTMLInputElement>(null);
  useEffect(() => field.current?.focus(), []);

  useEffect(() => {
    const text = query.trim();
    if (text.length === 0) {
      setResults([]);
      setNote('');
      return;
    }
    let isCurrent = true;
    const timer = setTimeout(() => {
      void search(conversation, text).then(({ found, isLocal }) => {
        if (!isCurrent) return;
        setResults(found);
        const count = found.length === 0 ? 'No messages found' : `${found.length} found`;
        setNote(isLocal ? `${count} (in the messages loaded here)` : count);
      });
    }, DEBOUNCE_MS);
    return () => {
      isCurrent = false;
      clearTimeout(timer);
    };
  }, [query, conversation]);

  return (
    <search class="search-bar">
      <label for="search-text" class="visually-hidden">
        Search this conversation
      </label>
      <input
        id="search-text"
        ref={field}
        type="search"
        placeholder="Search this conversation"
        value={query}
        onInput={(e) => setQuery(e.currentTarget.value)}
        onKeyDown={(e) => {
          if (e.key === 'Escape') onClose();
        }}
      />
      <p class="hint" role="status">
        {note}
      </p>
      {results.length > 0 && (
        <ul class="search-results">
          {results.map((m) => (
            <li key={m.id}>
              <button type="button" class="search-hit" onClick={() => onJump(m.id)}>
                <span class="hint">{`${dayLabel(m.ts)} ${clockTime(m.ts)}`}</span>
                <bdi>{m.text.length > 140 ? `${m.text.slice(0, 140)}…` : m.text}</bdi>
              </button>
            </li>
          ))}
        </ul>
      )}
    </search>
  );
}

async function search(
  conversation: Conversation,
  text: string,
): Promise<{ found: readonly MessageView[]; isLocal: boolean }> {
  try {
    const query = new URLSearchParams({ text, with: conversation.code, limit: String(MAX_RESULTS) });
    // The daemon answers oldest first; the newest hit comes first here.
    return { found: (await apiGet<FoundMessage[]>(`/v1/search?${query}`)).reverse(), isLocal: false };
  } catch (error) {
    if (!isMissingRoute(error)) return { found: [], isLocal: false };
    const needle = text.toLowerCase();
    const found = conversation.lines.value
      .filter((m) => m.text.toLowerCase().includes(needle))
      .slice(-MAX_RESULTS)
      .reverse();
    return { found, isLocal: true };
  }
}
