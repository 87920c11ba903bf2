/**
 * A message's text, as text: Preact puts it in text nodes (never parsed as HTML or Markdown), inside an isolated
 * bidi run so right-to-left overrides in it cannot reorder anything around it. Web addresses become buttons that
 * open the click-through (link-dialog.tsx); everything else, `javascript:` included, stays plain text.
 */
import { splitLinks } from '../lib/link-split.ts';
import { pendingLink } from './link-dialog.tsx';

export function MessageText({ text }: { text: string }) {
  const parts = splitLinks(text);
  return (
    <bdi class="message-text">
      {parts.map((part, i) =>
        part.kind === 'text' ? (
          part.text
        ) : (
          <button
            key={i}
            type="button"
            class="link-button"
            onClick={() => {
              pendingLink.value = part.url;
            }}
          >
            {part.url}
          </button>
        ),
      )}
    </bdi>
  );
}
