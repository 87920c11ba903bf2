/** Shown while the event stream is down: the daemon stopped or restarts; the page reconnects by itself. */
import { streamStatus } from '../state/session.ts';

export function StatusBanner() {
  if (streamStatus.value !== 'down') return null;
  return (
    <div class="status-banner" role="status">
      Lost contact with the dhtchat daemon — reconnecting…
    </div>
  );
}
