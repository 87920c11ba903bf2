/** PieceScheduler: a verified piece waiting for the disk is asked of nobody else; a group's one-strike ban. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Bitfield } from '../../../src/chat/files/bitfield.ts';
import { PieceScheduler } from '../../../src/chat/files/piece-scheduler.ts';

test('a verified piece being written is not asked again (of another source) until written or lost', () => {
  const done = new Bitfield(3);
  const scheduler = new PieceScheduler(done);
  scheduler.addSource('a', 'all');
  scheduler.addSource('b', 'all');
  assert.equal(scheduler.next('a'), 0);
  scheduler.onGood('a', 0);
  assert.equal(scheduler.next('b'), 1, 'piece 0 is being written: not asked of b');
  assert.equal(scheduler.next('b'), 2);
  assert.equal(scheduler.next('a'), undefined);
  scheduler.onLost(0);
  assert.equal(scheduler.next('a'), 0, 'a lost write is asked again');
  scheduler.onGood('a', 0);
  done.set(0);
  scheduler.onWritten(0);
  assert.equal(scheduler.next('a'), undefined, 'written: done');
});

test('with maxBadPieces 1 (a group), one wrong piece bans its source and the piece goes to another', () => {
  const scheduler = new PieceScheduler(new Bitfield(2), 1);
  scheduler.addSource('liar', 'all');
  scheduler.addSource('honest', 'all');
  assert.equal(scheduler.next('liar'), 0);
  assert.equal(scheduler.onBad('liar', 0), true);
  assert.equal(scheduler.isBanned('liar'), true);
  assert.equal(scheduler.addSource('liar', 'all'), false, 'not taken back');
  assert.equal(scheduler.next('honest'), 0);
  const friendly = new PieceScheduler(new Bitfield(2));
  friendly.addSource('a', 'all');
  friendly.next('a');
  assert.equal(friendly.onBad('a', 0), false, 'a friend’s transfer allows a few');
});
