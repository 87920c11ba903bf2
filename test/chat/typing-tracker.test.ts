/** Typing indicators: shown from the frame until stopped, a message, a lost session, or 15 s of silence. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { TYPING_STALE_MS, TypingTracker } from '../../src/chat/typing-tracker.ts';
import { ManualClock } from '../../src/runtime/index.ts';

function setup() {
  const clock = new ManualClock();
  const changes: string[] = [];
  const tracker = new TypingTracker(clock, (peer, isTyping) => changes.push(`${peer[0]} ${isTyping}`));
  return { clock, changes, tracker };
}

test('reports changes only; refreshed frames keep it on, silence turns it off after TYPING_STALE_MS', () => {
  const { clock, changes, tracker } = setup();
  const bob = Buffer.of(1);
  tracker.onFrame(bob, true);
  clock.advance(TYPING_STALE_MS - 1000);
  tracker.onFrame(bob, true);
  clock.advance(TYPING_STALE_MS - 1000);
  assert.deepEqual(changes, ['1 true']);
  assert.equal(tracker.isTyping(bob), true);
  clock.advance(1000);
  assert.deepEqual(changes, ['1 true', '1 false']);
  assert.equal(tracker.isTyping(bob), false);
});

test('a stop frame or stop() (a message, a lost session) ends it once; a stop for someone not typing is silent', () => {
  const { clock, changes, tracker } = setup();
  const bob = Buffer.of(1);
  const carol = Buffer.of(2);
  tracker.onFrame(carol, false);
  tracker.onFrame(bob, true);
  tracker.onFrame(carol, true);
  tracker.onFrame(bob, false);
  tracker.stop(carol);
  tracker.stop(carol);
  clock.advance(TYPING_STALE_MS * 2);
  assert.deepEqual(changes, ['1 true', '2 true', '1 false', '2 false']);
});

test('close() cancels every timer without reporting', () => {
  const { clock, changes, tracker } = setup();
  tracker.onFrame(Buffer.of(1), true);
  tracker.close();
  clock.advance(TYPING_STALE_MS * 2);
  assert.deepEqual(changes, ['1 true']);
});
