/**
 * A group's members: who, admin or not, online or not; for admins, invite a friend (only friends can be
 * invited), remove or promote a member. Anyone can leave (after a second press: leaving cannot be undone).
 */
import { useState } from 'preact/hooks';
import type { GroupView } from '../api/api-types.ts';
import { announce } from '../state/announcer.ts';
import { contacts, isPending } from '../state/contacts.ts';
import { type GroupRoom, leaveGroup, memberName } from '../state/groups.ts';

export function GroupMembers({ room, group }: { room: GroupRoom; group: GroupView }) {
  const [error, setError] = useState('');
  const [isLeaving, setLeaving] = useState(false);
  const members = room.members.value;
  const isAdmin = group.role === 'admin' && group.state === 'member';
  const act = (what: Promise<void>, done: string): void => {
    setError('');
    what.then(
      () => announce(done),
      (e: unknown) => setError(e instanceof Error ? e.message : String(e)),
    );
  };
  return (
    <div class="group-members" id="group-members">
      <h2>Members</h2>
      <ul class="member-list" aria-label="Members">
        {members.map((m) => (
          <li key={m.code} class="member-item">
            <span class={`presence-dot ${m.isOnline ? 'online' : 'offline'}`} aria-hidden="true" />
            <span class="member-name">
              <bdi>{memberName(m.code)}</bdi>
              <span class="hint">
                {' '}
                · {m.role === 'admin' ? 'admin' : 'member'} · {m.isOnline ? 'online' : 'offline'}
              </span>
            </span>
            {isAdmin && !m.isSelf && (
              <span class="button-row">
                {m.role !== 'admin' && (
                  <button
                    type="button"
                    onClick={() => act(room.promote(m.code), `${memberName(m.code)} is an admin`)}
                  >
                    Make admin <span class="visually-hidden">{memberName(m.code)}</span>
                  </button>
                )}
                <button
                  type="button"
                  class="danger"
                  onClick={() => act(room.remove(m.code), `${memberName(m.code)} removed`)}
                >
                  Remove <span class="visually-hidden">{memberName(m.code)}</span>
                </button>
              </span>
            )}
          </li>
        ))}
      </ul>
      {isAdmin && (
        <InviteForm room={room} memberCodes={new Set(members.map((m) => m.code))} onError={setError} />
      )}
      {error.length > 0 && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
      {group.state === 'member' && (
        <div class="button-row">
          {isLeaving ? (
            <>
              <button
                type="button"
                class="danger"
                onClick={() => act(leaveGroup(group.id), `you left ${group.name ?? 'the group'}`)}
              >
                Leave for good
              </button>
              <button type="button" onClick={() => setLeaving(false)}>
                Stay
              </button>
            </>
          ) : (
            <button type="button" class="danger" onClick={() => setLeaving(true)}>
              Leave group
            </button>
          )}
        </div>
      )}
    </div>
  );
}

function InviteForm({
  room,
  memberCodes,
  onError,
}: {
  room: GroupRoom;
  memberCodes: ReadonlySet<string>;
  onError: (message: string) => void;
}) {
  const friends = contacts.value.filter((c) => !isPending(c) && !memberCodes.has(c.code));
  const [who, setWho] = useState('');
  if (friends.length === 0) return <p class="hint">Every friend of yours is in this group.</p>;
  const chosen = friends.some((f) => f.code === who) ? who : (friends[0]?.code ?? '');
  return (
    <form
      class="form invite-form"
      onSubmit={(e) => {
        e.preventDefault();
        onError('');
        room.invite(chosen).then(
          () => announce('invite sent'),
          (err: unknown) => onError(err instanceof Error ? err.message : String(err)),
        );
      }}
    >
      <label for="invite-who">Invite a friend</label>
      <select id="invite-who" value={chosen} onChange={(e) => setWho(e.currentTarget.value)}>
        {friends.map((f) => (
          <option key={f.code} value={f.code}>
            {f.name}
          </option>
        ))}
      </select>
      <button type="submit" class="primary">
        Invite
      </button>
    </form>
  );
}
