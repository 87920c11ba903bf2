/**
 * The click-through before a web address in a message opens: the whole address as text (so a look-alike or a
 * long deceptive one can be read first), then a real link with `rel="noopener noreferrer"` in a new tab. Only
 * http(s) addresses ever get here (lib/link-split.ts).
 */
import { signal } from '@preact/signals';
import { isWebUrl } from '../lib/link-split.ts';
import { Dialog } from './dialog.tsx';

export const pendingLink = signal<string | null>(null);

export function LinkDialog() {
  const url = pendingLink.value;
  if (url === null || !isWebUrl(url)) return null;
  const close = (): void => {
    pendingLink.value = null;
  };
  return (
    <Dialog title="Open this link?" onClose={close}>
      <p>It opens in a new tab, outside dhtchat:</p>
      <p class="link-preview">
        <bdi>{url}</bdi>
      </p>
      <div class="button-row">
        <a class="button primary" href={url} target="_blank" rel="noopener noreferrer" onClick={close}>
          Open link
        </a>
        <button type="button" onClick={close}>
          Cancel
        </button>
      </div>
    </Dialog>
  );
}
