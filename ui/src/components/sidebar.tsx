/** The list pane: the app's navigation, then every contact with presence, last seen and unread count. */
import { applyTheme, nextTheme, theme } from '../lib/theme.ts';
import { requests } from '../state/contacts.ts';
import { hasFilesApi, waitingOffers } from '../state/files.ts';
import { type Screen, screen, show } from '../state/navigation.ts';
import { ContactList } from './contact-list.tsx';

const THEME_LABEL = { system: 'Theme: system', light: 'Theme: light', dark: 'Theme: dark' } as const;

export function Sidebar() {
  const pending = requests.value.length;
  const offers = waitingOffers.value;
  return (
    <aside class="sidebar" aria-label="Conversations and menu">
      <header class="sidebar-header">
        <span class="app-name">dhtchat</span>
        <button
          type="button"
          class="icon-button"
          onClick={() => applyTheme(nextTheme(theme.value))}
          aria-label={`${THEME_LABEL[theme.value]} (change)`}
          title={THEME_LABEL[theme.value]}
        >
          <span aria-hidden="true">{theme.value === 'dark' ? '☾' : theme.value === 'light' ? '☀' : '◐'}</span>
        </button>
      </header>
      <nav aria-label="Menu">
        <ul class="menu">
          <MenuItem target={{ kind: 'add' }} label="Add a friend" />
          <MenuItem
            target={{ kind: 'requests' }}
            label="Requests"
            {...(pending > 0 ? { badge: pending, badgeLabel: `${pending} waiting` } : {})}
          />
          {hasFilesApi.value && (
            <MenuItem
              target={{ kind: 'files' }}
              label="Files"
              {...(offers > 0 ? { badge: offers, badgeLabel: `${offers} offered to you` } : {})}
            />
          )}
          <MenuItem target={{ kind: 'code' }} label="My friend code" />
          <MenuItem target={{ kind: 'network' }} label="Network" />
          <MenuItem target={{ kind: 'settings' }} label="Settings" />
        </ul>
      </nav>
      <ContactList />
    </aside>
  );
}

function MenuItem({
  target,
  label,
  badge,
  badgeLabel,
}: {
  target: Screen;
  label: string;
  badge?: number;
  badgeLabel?: string;
}) {
  const isCurrent = screen.value.kind === target.kind;
  return (
    <li>
      <button
        type="button"
        class="menu-item"
        aria-current={isCurrent ? 'page' : undefined}
        onClick={() => show(target)}
      >
        <span>{label}</span>
        {badge !== undefined && (
          <span class="badge">
            {badge}
            <span class="visually-hidden"> {badgeLabel}</span>
          </span>
        )}
      </button>
    </li>
  );
}
