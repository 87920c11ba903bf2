/** The list pane: the app's navigation, then every contact with presence, last seen and unread count. */
import { applyTheme, nextTheme, theme } from '../lib/theme.ts';
import { requests } from '../state/contacts.ts';
import { hasFilesApi, waitingOffers } from '../state/files.ts';
import { groupInvites, groups, hasGroupsApi, totalGroupUnread } from '../state/groups.ts';
import { type Screen, screen, show } from '../state/navigation.ts';
import { ContactList } from './contact-list.tsx';

const THEME_LABEL = { system: 'Theme: system', light: 'Theme: light', dark: 'Theme: dark' } as const;

export function Sidebar() {
  const pending = requests.value.length;
  const offers = waitingOffers.value;
  const groupNews = groupInvites.value.length + totalGroupUnread.value;
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
          {hasGroupsApi.value && (
            <MenuItem
              target={{ kind: 'groups' }}
              label="Groups"
              {...(groupNews > 0
                ? {
                    badge: groupNews,
                    badgeLabel: `${groupInvites.value.length} invites, ${totalGroupUnread.value} unread`,
                  }
                : {})}
            />
          )}
          <MenuItem target={{ kind: 'code' }} label="My friend code" />
          <MenuItem target={{ kind: 'network' }} label="Network" />
          <MenuItem target={{ kind: 'settings' }} label="Settings" />
        </ul>
      </nav>
      <ContactList />
      {hasGroupsApi.value && groups.value.some((g) => g.state === 'member') && <GroupShortList />}
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

/** The groups you are in, to open one in a click (Groups has the rest). */
function GroupShortList() {
  const current = screen.value;
  return (
    <section class="contacts" aria-labelledby="sidebar-groups-title">
      <h2 id="sidebar-groups-title" class="section-title">
        Groups
      </h2>
      <ul class="contact-list">
        {groups.value
          .filter((g) => g.state === 'member')
          .map((g) => (
            <li key={g.id}>
              <button
                type="button"
                class="contact-item"
                aria-current={current.kind === 'group' && current.id === g.id ? 'page' : undefined}
                onClick={() => show({ kind: 'group', id: g.id })}
              >
                <span class="contact-text">
                  <bdi class="contact-name">{g.name ?? g.id.slice(0, 8)}</bdi>
                  <span class="contact-status">
                    {g.members} member{g.members === 1 ? '' : 's'}
                  </span>
                </span>
                {g.unread > 0 && (
                  <span class="badge">
                    {g.unread}
                    <span class="visually-hidden"> unread</span>
                  </span>
                )}
              </button>
            </li>
          ))}
      </ul>
    </section>
  );
}
