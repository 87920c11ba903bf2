/** The lines `dhtchat chat` prints: others' text escaped everywhere it appears, states, times, the status prompt. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  clockTime,
  messageLine,
  presenceLine,
  stateLine,
  statusPrompt,
  typingLine,
} from '../../src/app/chat-view-lines.ts';

const NOW = new Date(2026, 0, 31, 14, 3).getTime();
const EVIL = 'Bob\u001b[2J\u202e';
const status = { name: EVIL, presence: 'online', lastSeen: null, isTyping: true };

test('a friend’s name and text never reach the terminal raw', () => {
  const line = messageLine(
    { id: 'a', from: 'dhtchat:bob', text: 'hi\r\nFAKE: me: x', ts: NOW, state: 'read' },
    'dhtchat:me',
    EVIL,
    NOW,
  );
  assert.equal(line, '14:03  Bob\\x1b[2J\\u202e: hi\\r\\nFAKE: me: x');
  for (const text of [presenceLine(status, NOW), typingLine(status), statusPrompt(status, NOW)]) {
    assert.ok(!text.includes('\u001b') && !text.includes('\u202e'), text);
    assert.ok(text.startsWith('Bob\\x1b[2J\\u202e') || text.startsWith('[Bob\\x1b[2J\\u202e'), text);
  }
});

test('our messages carry their state; state lines for stored, delivered and read only', () => {
  const ours = { id: 'b', from: 'dhtchat:me', text: 'hello', ts: NOW, state: 'delivered' as const };
  assert.equal(messageLine(ours, 'dhtchat:me', 'bob', NOW), '14:03  me: hello  (delivered)');
  assert.equal(stateLine('hello', 'queued'), undefined);
  assert.equal(stateLine('hello', 'delivered'), '  delivered ✓: hello');
  assert.equal(stateLine('hello', 'read'), '  read ✓✓: hello');
  assert.equal(stateLine('x'.repeat(50), 'read'), `  read ✓✓: ${'x'.repeat(39)}…`);
});

test('times: same day as HH:MM, another day with the date; the prompt shows presence and typing', () => {
  assert.equal(clockTime(NOW - 60_000, NOW), '14:02');
  assert.equal(clockTime(new Date(2026, 0, 30, 9, 5).getTime(), NOW), '2026-01-30 09:05');
  const away = { name: 'bob', presence: 'away', lastSeen: NOW - 60_000, isTyping: false };
  assert.equal(statusPrompt(away, NOW), '[bob · away, last seen 14:02] > ');
  assert.equal(
    statusPrompt({ ...away, presence: 'online', isTyping: true }, NOW),
    '[bob · online · typing…] > ',
  );
  assert.equal(presenceLine(away, NOW), 'bob is away, last seen 14:02');
});
