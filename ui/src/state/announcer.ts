/**
 * What a screen reader should hear that is not where the focus is: a new message, a request, a copy done, an
 * error. One polite live region (components/live-region.tsx) reads the latest line.
 */
import { signal } from '@preact/signals';

export const announcement = signal('');

export function announce(text: string): void {
  // The same text twice in a row must be read twice: clear first, set on the next frame.
  announcement.value = '';
  requestAnimationFrame(() => {
    announcement.value = text;
  });
}
