/**
 * Groups: make one, answer invites (a group's name and the inviter come from someone else: shown as isolated
 * text), and the groups you are in or were in (left or removed: their history stays readable).
 */
import { useState } from 'preact/hooks';
import type { GroupInviteView, GroupView } from '../api/api-types.ts';
import { announce } from '../state/announcer.ts';
import { nameOf } from '../state/contacts.ts';
import { acceptInvite, createGroup, declineInvite, groupInvites, groups } from '../state/groups.ts';
import { show } from '../state/navigation.ts';
import { Panel } from './panel.tsx';

const STATE_WORDS: Readonly<Record<string, string>> = {
  joining: 'joining (when the admin who invited you is online)',
  left: 'you left',
  removed: 'you were removed',
  declined: 'declined',
};

export function GroupsView() {
  const mine = groups.value.filter((g) => g.state !== 'invited' && g.state !== 'declined');
  return (
    <Panel titleId="groups-title" title="Groups">
      <h2>New group</h2>
      <CreateGroupForm />
      <h2>Invites</h2>
      {groupInvites.value.length === 0 ? (
        <p class="hint">No invite waiting.</p>
      ) : (
        <ul class="request-list" aria-label="Invites">
          {groupInvites.value.map((invite) => (
            <InviteItem key={invite.group} invite={invite} />
          ))}
        </ul>
      )}
      <h2>Your groups</h2>
      {mine.length === 0 ? (
        <p class="hint">You are in no group yet.</p>
      ) : (
        <ul class="group-list" aria-label="Your groups">
          {mine.map((g) => (
            <GroupItem key={g.id} group={g} />
          ))}
        </ul>
      )}
    </Panel>
  );
}

function CreateGroupForm() {
  const [name, setName] = useState('');
  const [error, setError] = useState('');
  return (
    <form
      class="form"
      onSubmit={(e) => {
        e.preventDefault();
        setError('');
        createGroup(name.trim()).then(
          (group) => {
            announce(`group ${group.name ?? ''} made`);
            setName('');
            show({ kind: 'group', id: group.id });
          },
          (err: unknown) => setError(err instanceof Error ? err.message : String(err)),
        );
      }}
    >
      <label for="group-name">Name of the group (every member sees it)</label>
      <input id="group-name" value={name} maxLength={64} onInput={(e) => setName(e.currentTarget.value)} />
      {error.length > 0 && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
      <button type="submit" class="primary" disabled={name.trim().length === 0}>
        Make group
      </button>
    </form>
  );
}

function InviteItem({ invite }: { invite: GroupInviteView }) {
  const [error, setError] = useState('');
  const label = invite.name ?? 'A group';
  const act = (what: 'accept' | 'decline'): void => {
    setError('');
    const done =
      what === 'accept'
        ? acceptInvite(invite.group).then((group) => {
            announce(`joining ${label}`);
            show({ kind: 'group', id: group.id });
          })
        : declineInvite(invite.group).then(() => announce('invite declined'));
    done.catch((err: unknown) => setError(err instanceof Error ? err.message : String(err)));
  };
  return (
    <li class="request-item invite-item">
      <p class="request-from">
        <bdi class="request-name">{label}</bdi>
        <span class="hint">
          {' '}
          · from <bdi>{nameOf(invite.from)}</bdi>
        </span>
      </p>
      <fieldset class="button-row answer">
        <legend class="visually-hidden">Answer the invite to {label}</legend>
        <button type="button" class="primary" onClick={() => act('accept')}>
          Join
        </button>
        <button type="button" onClick={() => act('decline')}>
          Decline
        </button>
      </fieldset>
      {error.length > 0 && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
    </li>
  );
}

export function groupStatus(group: GroupView): string {
  if (group.state === 'member') return `${group.members} member${group.members === 1 ? '' : 's'}`;
  return STATE_WORDS[group.state] ?? group.state;
}

function GroupItem({ group }: { group: GroupView }) {
  return (
    <li>
      <button type="button" class="contact-item" onClick={() => show({ kind: 'group', id: group.id })}>
        <span class="contact-text">
          <bdi class="contact-name">{group.name ?? group.id.slice(0, 8)}</bdi>
          <span class="contact-status">{groupStatus(group)}</span>
        </span>
        {group.unread > 0 && (
          <span class="badge">
            {group.unread}
            <span class="visually-hidden"> unread</span>
          </span>
        )}
      </button>
    </li>
  );
}
