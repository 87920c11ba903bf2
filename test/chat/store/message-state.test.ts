/**
 * The message state machine: only forward, never backwards, whatever order receipts arrive in. The property
 * test drives a real store with random sequences and checks it against a naive twin (the highest state asked).
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import {
  canAdvance,
  isMessageState,
  MESSAGE_STATES,
  type MessageState,
} from '../../../src/chat/store/message-state.ts';
import { BOB, makeHarness } from './store-harness.ts';

const rank = (s: MessageState): number => MESSAGE_STATES.indexOf(s);

describe('message states', () => {
  test('the states are exactly the four contract strings, in order', () => {
    assert.deepEqual(MESSAGE_STATES, ['queued', 'stored', 'delivered', 'read']);
    assert.equal(isMessageState('sent'), false);
    assert.equal(isMessageState('stored'), true);
  });

  test('allowed moves: queued→stored→delivered→read and queued→delivered; never backwards or sideways', () => {
    assert.equal(canAdvance('queued', 'stored'), true);
    assert.equal(canAdvance('stored', 'delivered'), true);
    assert.equal(canAdvance('delivered', 'read'), true);
    assert.equal(canAdvance('queued', 'delivered'), true);
    for (const from of MESSAGE_STATES) {
      for (const to of MESSAGE_STATES) {
        if (rank(to) <= rank(from)) assert.equal(canAdvance(from, to), false, `${from}→${to}`);
      }
    }
  });

  test('the honest path stamps each state once; queued→delivered never claims stored', () => {
    const h = makeHarness();
    try {
      const offline = h.store.messages.enqueue(BOB, 'offline path');
      h.clock.advance(1);
      assert.equal(h.store.messages.advance(offline.id, 'stored').isChanged, true);
      h.clock.advance(1);
      h.store.messages.advance(offline.id, 'delivered');
      h.clock.advance(1);
      const read = h.store.messages.advance(offline.id, 'read').message;
      assert.deepEqual(
        [read.storedMs, read.deliveredMs, read.readMs].map((t) => (t ?? 0) - offline.createdMs),
        [1, 2, 3],
      );
      const direct = h.store.messages.enqueue(BOB, 'online path');
      const delivered = h.store.messages.advance(direct.id, 'delivered').message;
      assert.equal(delivered.state, 'delivered');
      assert.equal(delivered.storedMs, undefined);
      const back = h.store.messages.advance(direct.id, 'stored');
      assert.equal(back.isChanged, false);
      assert.equal(back.message.state, 'delivered');
      const skipped = h.store.messages.enqueue(BOB, 'read receipt first');
      const jumped = h.store.messages.advance(skipped.id, 'read').message;
      assert.equal(jumped.deliveredMs, jumped.readMs);
    } finally {
      h.cleanup();
    }
  });

  test('property: random sequences of transitions never go backwards and end at the highest state asked', () => {
    const h = makeHarness();
    try {
      const stateArb = fc.constantFrom<MessageState>(...MESSAGE_STATES);
      fc.assert(
        fc.property(
          fc.array(fc.tuple(fc.nat(2), stateArb), { minLength: 1, maxLength: 15 }),
          fc.boolean(),
          (steps, isReopened) => {
            const ids = [0, 1, 2].map(() => h.store.messages.enqueue(BOB, 'p').id);
            const twin: MessageState[] = ['queued', 'queued', 'queued'];
            const stamps = new Map<string, (number | undefined)[]>();
            for (const [which, target] of steps) {
              const id = ids[which] as Buffer;
              h.clock.advance(7);
              const before = twin[which] as MessageState;
              const { isChanged, message } = h.store.messages.advance(id, target);
              assert.equal(isChanged, rank(target) > rank(before));
              assert.ok(rank(message.state) >= rank(before), `${before} went back to ${message.state}`);
              twin[which] = rank(target) > rank(before) ? target : before;
              assert.equal(message.state, twin[which]);
              // A timestamp, once set, never changes.
              const now = [message.storedMs, message.deliveredMs, message.readMs];
              const earlier = stamps.get(id.toString('hex'));
              earlier?.forEach((t, i) => {
                if (t !== undefined) assert.equal(now[i], t);
              });
              stamps.set(id.toString('hex'), now);
            }
            const store = isReopened ? h.reopen() : h.store;
            ids.forEach((id, i) => {
              assert.equal(store.messages.get(id)?.state, twin[i]);
            });
          },
        ),
        { numRuns: 120, seed: 20261125 },
      );
    } finally {
      h.cleanup();
    }
  });
});
