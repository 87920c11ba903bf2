/** The API's event ring: ids, resume after a break, reset after a restart or a long absence, bounds. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { EventLog } from '../../../src/app/web-client/event-log.ts';

test('events are numbered from 1 under the boot id, and handed to subscribers', () => {
  const log = new EventLog({ maxEvents: 10, maxBytes: 10_000 }, 'abcd0123');
  const seen: string[] = [];
  const stop = log.subscribe((e) => seen.push(log.idOf(e)));
  assert.equal(log.currentId(), 'abcd0123-0');
  log.append({ event: 'presence' });
  log.append({ event: 'message' });
  stop();
  log.append({ event: 'typing' });
  assert.deepEqual(seen, ['abcd0123-1', 'abcd0123-2']);
  assert.equal(log.currentId(), 'abcd0123-3');
});

test('a client resumes with exactly the events after its last id', () => {
  const log = new EventLog({ maxEvents: 10, maxBytes: 10_000 }, 'abcd0123');
  for (let i = 1; i <= 5; i++) log.append({ event: 'state', i });
  const resume = log.resume('abcd0123-3');
  assert.equal(resume.kind, 'replay');
  assert.deepEqual(resume.kind === 'replay' ? resume.events.map((e) => JSON.parse(e.json).i) : [], [4, 5]);
  const upToDate = log.resume('abcd0123-5');
  assert.deepEqual(upToDate, { kind: 'replay', events: [] });
  // Before any event: everything.
  const fromStart = log.resume('abcd0123-0');
  assert.equal(fromStart.kind === 'replay' ? fromStart.events.length : -1, 5);
});

test('an id from another boot, a garbled one, or one from the future means reload', () => {
  const log = new EventLog({ maxEvents: 10, maxBytes: 10_000 }, 'abcd0123');
  log.append({ event: 'state' });
  assert.deepEqual(log.resume('ffff0000-1'), { kind: 'reset', reason: 'restarted' });
  assert.deepEqual(log.resume('not an id'), { kind: 'reset', reason: 'restarted' });
  assert.deepEqual(log.resume('abcd0123-9'), { kind: 'reset', reason: 'too-far-behind' });
});

test('the ring is bounded in events and in bytes; a client behind it is told to reload', () => {
  const log = new EventLog({ maxEvents: 3, maxBytes: 10_000 }, 'abcd0123');
  for (let i = 1; i <= 6; i++) log.append({ event: 'state', i });
  // Events 4..6 are kept: a client at 3 misses nothing, one at 2 would miss event 3.
  assert.equal(log.resume('abcd0123-3').kind, 'replay');
  assert.deepEqual(log.resume('abcd0123-2'), { kind: 'reset', reason: 'too-far-behind' });

  const small = new EventLog({ maxEvents: 100, maxBytes: 300 }, 'abcd0123');
  for (let i = 1; i <= 10; i++) small.append({ event: 'message', text: 'x'.repeat(100) });
  const kept = small.resume('abcd0123-8');
  assert.equal(kept.kind === 'replay' ? kept.events.length : -1, 2);
  assert.equal(small.resume('abcd0123-7').kind, 'reset');
});
