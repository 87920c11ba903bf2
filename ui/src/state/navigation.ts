/**
 * Which screen is showing. One pane at a time on a narrow screen (the list, or what was opened from it); the
 * list and the open screen side by side on a wide one. Kept in memory: the URL stays `/`.
 */
import { signal } from '@preact/signals';

export type Screen =
  | { readonly kind: 'home' }
  | { readonly kind: 'chat'; readonly code: string }
  | { readonly kind: 'add' }
  | { readonly kind: 'requests' }
  | { readonly kind: 'network' }
  | { readonly kind: 'settings' }
  | { readonly kind: 'files' }
  | { readonly kind: 'groups' }
  | { readonly kind: 'group'; readonly id: string }
  | { readonly kind: 'code' };

export const screen = signal<Screen>({ kind: 'home' });

export function show(next: Screen): void {
  screen.value = next;
}

export function openChat(code: string): void {
  screen.value = { kind: 'chat', code };
}

/** The friend whose conversation is showing, if any. */
export function openChatCode(): string | undefined {
  const current = screen.value;
  return current.kind === 'chat' ? current.code : undefined;
}
