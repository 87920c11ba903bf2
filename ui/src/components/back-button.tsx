/** Back to the list (shown on narrow screens, where one pane shows at a time). */
import { show } from '../state/navigation.ts';

export function BackButton() {
  return (
    <button
      type="button"
      class="back-button icon-button"
      onClick={() => show({ kind: 'home' })}
      aria-label="Back to the list"
    >
      <span aria-hidden="true">←</span>
    </button>
  );
}
