/**
 * Profile frames in Delivery: our name goes out on a session only once the friend's hello says it knows the frame
 * (version ≥ 2: a version-1 peer drops a session on an unknown frame), again when it changes, and a friend's
 * profile frame reaches the owner.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { Delivery } from '../../../src/chat/session/delivery.ts';
import { CHAT_PROTOCOL_VERSION, type ChatFrame } from '../../../src/chat/session/frames.ts';
import type { ChatSession } from '../../../src/chat/session/session.ts';
import { ChatStore } from '../../../src/chat/store/chat-store.ts';
import { ManualClock, nullLogger, SeededRandom } from '../../../src/runtime/index.ts';

const ME = Buffer.alloc(32, 0xaa);
const FRIEND = Buffer.alloc(32, 0xb0);

class FakeSession {
  isOpen = true;
  readonly sent: ChatFrame[] = [];
  send(frame: ChatFrame): boolean {
    this.sent.push(frame);
    return true;
  }
}

test('our name waits for a hello of version 2, follows a change, and a friend profile reaches the owner', () => {
  const dir = mkdtempSync(join(tmpdir(), 'dhtchat-profile-'));
  const clock = new ManualClock();
  const store = ChatStore.open({
    path: join(dir, 'chat.sqlite'),
    ownPublicKey: ME,
    clock,
    random: new SeededRandom('profile-frames'),
  });
  try {
    store.contacts.upsert(FRIEND, 'accepted', 'friend');
    let name = 'Alice';
    let session: FakeSession | undefined;
    const profiles: string[] = [];
    const delivery = new Delivery({
      store,
      clock,
      logger: nullLogger,
      sessionOf: () => session as unknown as ChatSession | undefined,
      ownName: () => name,
      events: {
        onMessage: () => {},
        onState: () => {},
        onTyping: () => {},
        onFriendRequestFrame: () => {},
        onProfile: (_peer, profileName) => void profiles.push(profileName),
      },
    });
    const profileFrames = (s: FakeSession) => s.sent.filter((f) => f.type === 'profile');

    const old = new FakeSession();
    session = old;
    const toOld = delivery.attach(FRIEND, old as unknown as ChatSession);
    assert.deepEqual(old.sent[0], { type: 'hello', version: CHAT_PROTOCOL_VERSION });
    toOld.onFrame({ type: 'hello', version: 1 });
    delivery.sendProfile(FRIEND);
    assert.deepEqual(profileFrames(old), [], 'a version-1 peer is never sent one');

    const fresh = new FakeSession();
    session = fresh;
    const toFresh = delivery.attach(FRIEND, fresh as unknown as ChatSession);
    toFresh.onFrame({ type: 'hello', version: 2 });
    toFresh.onFrame({ type: 'hello', version: 2 });
    assert.deepEqual(profileFrames(fresh), [{ type: 'profile', name: 'Alice' }], 'once per session');
    name = 'Alicia';
    delivery.sendProfile(FRIEND);
    assert.deepEqual(
      profileFrames(fresh).map((f) => (f.type === 'profile' ? f.name : '')),
      ['Alice', 'Alicia'],
    );
    toFresh.onFrame({ type: 'profile', name: 'Bobby' });
    assert.deepEqual(profiles, ['Bobby']);
    delivery.close();
  } finally {
    store.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
