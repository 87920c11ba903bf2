/**
 * Light or dark: the system's choice (prefers-color-scheme) unless the user picked one; the pick is kept in
 * localStorage (a preference, nothing secret) and set as `data-theme` on <html>, which the CSS reads.
 */
import { signal } from '@preact/signals';

export type ThemeChoice = 'system' | 'light' | 'dark';

const STORAGE_KEY = 'dhtchat-theme';

export const theme = signal<ThemeChoice>(readChoice());

export function applyTheme(choice: ThemeChoice): void {
  theme.value = choice;
  if (choice === 'system') {
    document.documentElement.removeAttribute('data-theme');
    localStorage.removeItem(STORAGE_KEY);
  } else {
    document.documentElement.setAttribute('data-theme', choice);
    localStorage.setItem(STORAGE_KEY, choice);
  }
}

export function nextTheme(choice: ThemeChoice): ThemeChoice {
  return choice === 'system' ? 'light' : choice === 'light' ? 'dark' : 'system';
}

function readChoice(): ThemeChoice {
  try {
    const saved = localStorage.getItem(STORAGE_KEY);
    return saved === 'light' || saved === 'dark' ? saved : 'system';
  } catch {
    return 'system';
  }
}
