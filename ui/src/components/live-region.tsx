/** The one polite live region: screen readers read each announcement (state/announcer.ts). */
import { announcement } from '../state/announcer.ts';

export function LiveRegion() {
  return (
    <div class="visually-hidden" aria-live="polite" aria-atomic="true">
      {announcement.value}
    </div>
  );
}
