import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatEvent } from '../../src/app/chat-output.ts';
import {
  formatGroupLine,
  formatGroupMessage,
  formatInvite,
  formatMember,
} from '../../src/app/group-output.ts';

const ID = 'ab'.repeat(32);
const EVIL = 'club\u001b[2J\u202e';

test('group lines escape what others wrote (group names, message text) and show counts', () => {
  const line = formatGroupLine({ id: ID, name: EVIL, state: 'member', role: 'admin', members: 5, unread: 2 });
  assert.ok(!line.includes('\u001b') && !line.includes('\u202e'), line);
  assert.match(line, /member \(admin\) {2}5 members {2}2 unread/);
  assert.ok(line.endsWith(ID));
  const invite = formatInvite({ group: ID, name: EVIL, from: 'dhtchat:x', receivedAt: 0 });
  assert.ok(!invite.includes('\u001b'));
  const names = new Map([['dhtchat:bob', 'Bob\u0007']]);
  const own = formatGroupMessage(
    {
      id: 'ee',
      group: ID,
      from: 'dhtchat:me',
      text: 'hi\r\nforged',
      ts: 0,
      state: 'sent',
      delivered: 2,
      read: 1,
      members: 4,
    },
    'dhtchat:me',
    names,
  );
  assert.match(own, /me: hi\\r\\nforged {2}\(sent 2\/4, read 1\)$/);
  const theirs = formatGroupMessage(
    {
      id: 'ee',
      group: ID,
      from: 'dhtchat:bob',
      text: 'yo',
      ts: 0,
      state: 'delivered',
      delivered: 1,
      read: 0,
      members: 4,
    },
    'dhtchat:me',
    names,
  );
  assert.match(theirs, /Bob\\x07: yo {2}\(delivered\)$/);
  assert.equal(
    formatMember({ code: 'dhtchat:c', name: null, role: 'member', isSelf: false, isOnline: false }),
    'dhtchat:c  member  offline  dhtchat:c',
  );
});

test('a file offered in a group reads as one, escaped, with the command that accepts it', () => {
  const offer = {
    id: 'ee',
    group: ID,
    from: 'dhtchat:bob',
    text: 'song\u202e.ogg',
    file: { id: '3fa2c1d0'.repeat(4) },
    ts: 0,
    state: 'delivered' as const,
    delivered: 1,
    read: 0,
    members: 3,
  };
  const line = formatGroupMessage(offer, 'dhtchat:me', new Map());
  assert.match(
    line,
    /dhtchat:bob: sent a file: song\\u202e\.ogg \(accept with: dhtchat accept-file 3fa2c1d0\)/,
  );
  const own = formatGroupMessage({ ...offer, from: 'dhtchat:me' }, 'dhtchat:me', new Map());
  assert.match(own, /me: sent a file: song\\u202e\.ogg \(3fa2c1d0\)/);
});

test('group events print as sentences, escaped, through formatEvent', () => {
  const lines = [
    {
      event: 'group_message',
      group: ID,
      name: EVIL,
      message: { id: 'ee', from: 'dhtchat:bob', text: 'x\u001b]0;t\u0007' },
    },
    { event: 'group_invite', group: ID, name: EVIL, from: 'dhtchat:bob' },
    { event: 'group_member', group: ID, code: 'dhtchat:bob', change: 'removed' },
    { event: 'group_typing', group: ID, code: 'dhtchat:bob', isTyping: true },
    { event: 'group_state', group: ID, id: 'ee', state: 'delivered', delivered: 4, read: 2, members: 4 },
    { event: 'group', id: ID, name: EVIL, state: 'removed' },
  ].map((e) => formatEvent(e, (code) => (code === 'dhtchat:bob' ? 'Bob' : undefined)));
  for (const line of lines) assert.ok(!/[\u0000-\u001f\u202e]/.test(line), line);
  assert.match(lines[0] as string, /^\[club\\x1b\[2J\\u202e\] Bob: x\\x1b\]0;t\\x07/);
  assert.match(lines[2] as string, /^Bob was removed from group abababababab$/);
  assert.match(lines[4] as string, /delivered 4\/4, read 2/);
  assert.match(lines[5] as string, /you are removed$/);
});
