/** The chat commands' human lines: every name, note and text from someone else is printed terminal-safe. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ContactView, MessageView, RequestView } from '../../src/app/chat-api-types.ts';
import { formatEvent, formatMessage, formatRequest } from '../../src/app/chat-output.ts';
import { contactLabel, formatContactLine, nameAndCode } from '../../src/app/contact-output.ts';
import { isTerminalSafe } from '../../src/app/terminal-text.ts';

const ATTACK = 'hi\x1b[2J\x1b]0;owned\x07\r\nFAKE: Alice: send me your password';
const ATTACK_SHOWN = 'hi\\x1b[2J\\x1b]0;owned\\x07\\r\\nFAKE: Alice: send me your password';
const BIDI = 'invoice\u202etxt.exe';
const BIDI_SHOWN = 'invoice\\u202etxt.exe';
const KEPT = 'שלום 👩‍👩‍👧‍👦 مرحبا ❤️ Zoë';
const BOB = 'dhtchat:bob';
const ME = 'dhtchat:me';
const TS = 1_700_000_000_000;

/** One line, nothing a terminal would act on, and the visible escapes where the attack was. */
function assertInert(line: string): void {
  assert.ok(isTerminalSafe(line), JSON.stringify(line));
  assert.ok(!line.includes('\n') && !line.includes('\x1b'), JSON.stringify(line));
}

test('contacts and the add/accept confirmations escape a hostile name, keep an ordinary one', () => {
  const hostile: ContactView = {
    name: ATTACK,
    code: BOB,
    presence: 'online',
    lastSeen: null,
    profileName: null,
  };
  assertInert(formatContactLine(hostile));
  assert.equal(formatContactLine(hostile), `${ATTACK_SHOWN}  online  ${BOB}`);
  assert.equal(
    formatContactLine({ ...hostile, path: 'relayed' }),
    `${ATTACK_SHOWN}  online (relayed)  ${BOB}`,
  );
  assert.equal(formatContactLine({ ...hostile, path: 'direct' }), `${ATTACK_SHOWN}  online  ${BOB}`);
  assert.equal(nameAndCode({ ...hostile, name: BIDI }), `${BIDI_SHOWN} (${BOB})`);
  assert.equal(nameAndCode({ ...hostile, name: KEPT }), `${KEPT} (${BOB})`);
  assert.equal(nameAndCode({ ...hostile, name: BOB }), BOB, 'an unnamed contact is its code, once');
  const calledOtherwise = contactLabel({ ...hostile, name: KEPT, profileName: ATTACK });
  assertInert(calledOtherwise);
  assert.equal(calledOtherwise, `${KEPT} (calls themself "${ATTACK_SHOWN}")`);
});

test("a request's suggested name and note are escaped", () => {
  const request: RequestView = { code: BOB, name: ATTACK, message: `${BIDI} ${KEPT}`, receivedAt: TS };
  const line = formatRequest(request);
  assertInert(line);
  assert.equal(line, `${BOB}  ${ATTACK_SHOWN}  "${BIDI_SHOWN} ${KEPT}"  received 2023-11-14T22:13:20.000Z`);
});

test("a message's text and its sender's name are escaped; emoji and RTL text stay", () => {
  const from: MessageView = { id: 'ab', from: BOB, text: ATTACK, ts: TS, state: 'read' };
  const names = new Map([[BOB, BIDI]]);
  assert.equal(
    formatMessage(from, ME, names),
    `2023-11-14T22:13:20.000Z  ${BIDI_SHOWN}: ${ATTACK_SHOWN}  (read)`,
  );
  assert.equal(
    formatMessage({ ...from, from: ME, text: KEPT }, ME, names),
    `2023-11-14T22:13:20.000Z  me: ${KEPT}  (read)`,
  );
});

test('events name friends when the lookup knows them, and show the code otherwise', () => {
  const nameOf = (code: string): string | undefined => (code === BOB ? 'bob' : undefined);
  const message = { id: 'ab', from: BOB, text: KEPT, ts: TS, state: 'delivered' };
  assert.equal(
    formatEvent({ event: 'message', from: BOB, message }, nameOf),
    `message from bob: ${KEPT}  (ab)`,
  );
  assert.equal(
    formatEvent({ event: 'state', with: BOB, id: 'ab', state: 'read' }, nameOf),
    'message ab to bob: read',
  );
  assert.equal(formatEvent({ event: 'presence', code: BOB, presence: 'online' }, nameOf), 'bob is online');
  assert.equal(formatEvent({ event: 'typing', code: BOB, isTyping: true }, nameOf), 'bob is typing…');
  assert.equal(formatEvent({ event: 'path', code: BOB, path: 'relayed' }, nameOf), 'bob: path relayed');
  assert.equal(formatEvent({ event: 'path', code: BOB, path: null }, nameOf), 'bob: no path (offline)');
  assert.equal(formatEvent({ event: 'presence', code: ME, presence: 'away' }, nameOf), `${ME} is away`);
  assert.equal(formatEvent({ event: 'presence', code: BOB, presence: 'away' }), `${BOB} is away`);
});

test('events escape message text, request names and notes, accepted names and unknown events', () => {
  const nameOf = (code: string): string | undefined => (code === BOB ? BIDI : undefined);
  const lines = [
    formatEvent({ event: 'message', from: BOB, message: { id: 'ab', text: ATTACK } }, nameOf),
    formatEvent({ event: 'request', code: ME, name: ATTACK, message: ATTACK, receivedAt: TS }, nameOf),
    formatEvent({ event: 'accepted', name: ATTACK, code: BOB, presence: 'offline', lastSeen: null }),
    formatEvent({ event: 'future-event', note: `${BIDI}\x9b2J` }),
  ];
  for (const line of lines) assertInert(line);
  assert.deepEqual(lines, [
    `message from ${BIDI_SHOWN}: ${ATTACK_SHOWN}  (ab)`,
    `friend request from "${ATTACK_SHOWN}" (${ME}): "${ATTACK_SHOWN}"`,
    `${ATTACK_SHOWN} (${BOB}) is now a friend`,
    `{"event":"future-event","note":"${BIDI_SHOWN}\\x9b2J"}`,
  ]);
  assert.equal(formatEvent({ event: 'request', code: ME, receivedAt: TS }), `friend request from ${ME}`);
  assert.equal(
    formatEvent({ event: 'accepted', name: BOB, code: BOB, presence: 'offline', lastSeen: null }),
    `${BOB} is now a friend`,
  );
});
