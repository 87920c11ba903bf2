/**
 * A group: its messages in the order every member sees (each from its author, named as we know them), our own
 * with "delivered to N of M · read by R", who is typing, a composer while we are a member, and the members
 * (group-members.tsx). Opening it, and coming back to the tab, marks it read (the members see it).
 */
import { useTypingSignal } from '../lib/use-typing-signal.ts';
import { useEffect, useRef, useState } from 'preact/hooks';
import { apiPost } from '../api/api-client.ts';
import type { GroupMessageView } from '../api/api-types.ts';
import { clockTime, dayLabel } from '../lib/format-time.ts';
import { announce } from '../state/announcer.ts';
import { isReading } from '../state/chat-events.ts';
import { type GroupRoom, groupName, groupOf, memberName, roomOf } from '../state/groups.ts';
import { sendFile, uploadErrorText } from '../state/files.ts';
import { show } from '../state/navigation.ts';
import { ownCode } from '../state/session.ts';
import { BackButton } from './back-button.tsx';
import { ComposerForm } from './composer-form.tsx';
import { groupStatus } from './groups-view.tsx';
import { GroupMembers } from './group-members.tsx';
import { MessageText } from './message-text.tsx';

export function deliveryText(m: GroupMessageView): string {
  if (m.members === 0) return m.state === 'queued' ? 'not sent yet' : 'sent';
  if (m.state === 'queued') return `not with any member yet (0 of ${m.members})`;
  return `delivered to ${m.delivered} of ${m.members}${m.read > 0 ? ` · read by ${m.read}` : ''}`;
}

export function GroupConversation({ id }: { id: string }) {
  const room = roomOf(id);
  const group = groupOf(id);
  const name = groupName(id);
  const [error, setError] = useState('');
  const [isMembersOpen, setMembersOpen] = useState(false);
  const isMember = group?.state === 'member';

  useEffect(() => {
    const readIfVisible = (): void => {
      if (isReading() && groupOf(id)?.state === 'member') void room.markRead().catch(() => {});
    };
    setError('');
    // A group being joined has no messages to show yet: loaded once it is ours (its state changes).
    if (group?.state !== 'joining' && group?.state !== 'invited') {
      room.load().then(readIfVisible, (e: unknown) => setError(e instanceof Error ? e.message : String(e)));
    }
    if (isMember) void room.loadMembers().catch(() => {});
    document.addEventListener('visibilitychange', readIfVisible);
    return () => document.removeEventListener('visibilitychange', readIfVisible);
  }, [id, group?.state]);

  const typing = [...room.typing.value].map(memberName);
  return (
    <section class="conversation" aria-labelledby="group-title">
      <header class="chat-header">
        <BackButton />
        <div class="chat-who">
          <h1 id="group-title" tabIndex={-1}>
            <bdi>{name}</bdi>
          </h1>
          <p class="chat-status" data-testid="group-status">
            {group === undefined ? '' : groupStatus(group)}
          </p>
        </div>
        <button
          type="button"
          aria-expanded={isMembersOpen}
          aria-controls="group-members"
          onClick={() => setMembersOpen(!isMembersOpen)}
        >
          Members
        </button>
      </header>
      {isMembersOpen && group !== undefined && <GroupMembers room={room} group={group} />}
      {error.length > 0 && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
      <GroupMessages room={room} name={name} />
      {typing.length > 0 && (
        <p class="typing-line" aria-live="polite">
          {typing.map((who, i) => (
            <span key={who}>
              {i > 0 && ', '}
              <bdi>{who}</bdi>
            </span>
          ))}{' '}
          {typing.length === 1 ? 'is' : 'are'} typing…
        </p>
      )}
      {isMember ? (
        <GroupComposer room={room} name={name} />
      ) : (
        <p class="hint group-ended">
          {group?.state === 'joining'
            ? 'You join when the admin who invited you is online.'
            : 'You are not a member any more; the messages from your time in it stay here.'}
        </p>
      )}
    </section>
  );
}

function GroupMessages({ room, name }: { room: GroupRoom; name: string }) {
  const scroller = useRef<HTMLDivElement>(null);
  const list = room.messages.value;
  const last = list[list.length - 1]?.id;
  useEffect(() => {
    // New messages at the bottom stay in view while the reader is at the bottom.
    const el = scroller.current;
    if (el !== null) el.scrollTop = el.scrollHeight;
  }, [last]);
  let previousDay = '';
  return (
    <div
      class="message-scroller group-scroller"
      ref={scroller}
      role="log"
      aria-live="off"
      aria-label={`Messages in ${name}`}
      // biome-ignore lint/a11y/noNoninteractiveTabindex: a scrolling region must take the focus to scroll by keys
      tabIndex={0}
    >
      {room.hasOlder.value && (
        <p class="loading-older">
          <button type="button" onClick={() => void room.loadOlder()}>
            Show older messages
          </button>
        </p>
      )}
      {room.isLoaded.value && list.length === 0 && <p class="empty-chat hint">No messages yet.</p>}
      <ol class="group-messages">
        {list.map((m) => {
          const day = dayLabel(m.ts);
          const isNewDay = day !== previousDay;
          previousDay = day;
          const isMine = m.from === ownCode.value;
          return (
            <li key={m.id}>
              {isNewDay && (
                <p class="day-separator">
                  <span>{day}</span>
                </p>
              )}
              <div class={`bubble ${isMine ? 'mine' : 'theirs'}`} data-message-id={m.id}>
                {!isMine && (
                  <p class="sender">
                    <bdi>{memberName(m.from)}</bdi>
                  </p>
                )}
                {m.file === undefined ? (
                  <MessageText text={m.text} />
                ) : (
                  <p class="group-file">
                    {isMine ? 'You sent a file: ' : 'Sent a file: '}
                    <bdi>{m.text}</bdi>{' '}
                    <button type="button" class="link-button" onClick={() => show({ kind: 'files' })}>
                      {isMine ? 'See it in Files' : 'Accept it in Files'}
                    </button>
                  </p>
                )}
                <span class="meta">
                  <time dateTime={new Date(m.ts).toISOString()}>{clockTime(m.ts)}</time>
                  {isMine && (
                    <span class="group-mark" data-state={m.state}>
                      {deliveryText(m)}
                    </span>
                  )}
                </span>
              </div>
            </li>
          );
        })}
      </ol>
    </div>
  );
}

function GroupComposer({ room, name }: { room: GroupRoom; name: string }) {
  const [text, setText] = useState('');
  const [error, setError] = useState('');
  const upload = (file: File): void => {
    setError('');
    sendFile(room.id, file, 'group').then(
      () => {
        announce(`${file.name} offered to ${name}`);
        // The offer is a message of ours that no event brings: the page is read again to show it.
        void room.load().catch(() => {});
      },
      (e: unknown) => setError(uploadErrorText(e, room.id)),
    );
  };
  const typing = useTypingSignal(room.id, (isTyping) => {
    void fetchTyping(room.id, isTyping);
  });
  const stopTyping = typing.stop;
  const send = (): void => {
    const body = text.trim();
    if (body.length === 0) return;
    stopTyping();
    setText('');
    room.send(text).then(
      () => announce('sent'),
      (e: unknown) => {
        setText(text);
        setError(e instanceof Error ? e.message : String(e));
      },
    );
  };
  return (
    <ComposerForm
      id="group-composer-text"
      name={name}
      text={text}
      placeholder="Write to the group"
      error={error}
      onInput={(value) => {
        setText(value);
        setError('');
        typing.typed(value);
      }}
      onSend={send}
      onPickFile={upload}
    />
  );
}

async function fetchTyping(group: string, isTyping: boolean): Promise<void> {
  await apiPost('/v1/groups/typing', { group, isTyping }).catch(() => {});
}
