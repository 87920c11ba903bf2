/**
 * GroupCommit: a turn's jobs in one transaction, each in its own savepoint, told only after COMMIT; bounded
 * groups; the group's durability from its jobs. On a real store (savepoints are SQLite's), with the end of the
 * turn run by hand.
 */
import assert from 'node:assert/strict';
import { afterEach, describe, test } from 'node:test';
import { GroupCommit, type GroupCommitJob } from '../../../src/chat/store/group-commit.ts';
import type { CommitDurability } from '../../../src/chat/store/store-context.ts';
import { DhtchatError } from '../../../src/runtime/index.ts';
import { BOB, type Harness, makeHarness } from './store-harness.ts';

class Turns {
  readonly #pending: (() => void)[] = [];
  readonly defer = (fn: () => void): void => void this.#pending.push(fn);
  get pendingCount(): number {
    return this.#pending.length;
  }
  end(): void {
    for (const fn of this.#pending.splice(0)) fn();
  }
}

interface Probe {
  readonly log: string[];
  job(name: string, write?: () => void, durability?: CommitDurability): GroupCommitJob;
}

function probe(): Probe {
  const log: string[] = [];
  return {
    log,
    job: (name, write = () => {}, durability) => ({
      ...(durability === undefined ? {} : { durability }),
      write: () => {
        log.push(`write ${name}`);
        write();
      },
      committed: () => void log.push(`committed ${name}`),
      failed: (error) =>
        void log.push(`failed ${name}: ${(error as { code?: string }).code ?? String(error)}`),
    }),
  };
}

let harness: Harness | undefined;
afterEach(() => {
  harness?.cleanup();
  harness = undefined;
});

/** A GroupCommit on a real store; `commits` records each outer transaction's durability. */
function setup(maxJobs?: number) {
  const h = makeHarness('group-commit');
  harness = h;
  const turns = new Turns();
  const commits: CommitDurability[] = [];
  const errors: unknown[] = [];
  let depth = 0;
  const group = new GroupCommit({
    transaction: (fn, durability) => h.store.transaction(fn, durability),
    defer: turns.defer,
    ...(maxJobs === undefined ? {} : { maxJobs }),
    onCallbackError: (error) => errors.push(error),
  });
  const recording = new GroupCommit({
    transaction: (fn, durability = 'power-loss') => {
      // Only the outer transaction decides; the jobs' savepoints are nested calls.
      if (depth === 0) commits.push(durability);
      depth++;
      try {
        return h.store.transaction(fn, durability);
      } finally {
        depth--;
      }
    },
    defer: turns.defer,
    onCallbackError: (error) => errors.push(error),
  });
  return { h, turns, group, recording, commits, errors };
}

describe('GroupCommit', () => {
  test("a turn's jobs commit together at its end, each told after the commit, in order", () => {
    const { h, turns, group } = setup();
    const p = probe();
    const ids: Buffer[] = [];
    for (const name of ['a', 'b', 'c'])
      group.add(p.job(name, () => void ids.push(h.store.messages.enqueue(BOB, name).id)));
    assert.deepEqual(p.log, [], 'nothing runs before the end of the turn');
    assert.equal(group.pendingCount, 3);
    assert.equal(turns.pendingCount, 1, 'one deferral for the whole turn');
    turns.end();
    assert.deepEqual(p.log, ['write a', 'write b', 'write c', 'committed a', 'committed b', 'committed c']);
    assert.deepEqual(group.stats, { groups: 1, jobs: 3 });
    assert.equal(h.reopen().messages.count(BOB), 3, 'durable');
  });

  test('a job whose write throws is undone alone; the others commit', () => {
    const { h, turns, group } = setup();
    const p = probe();
    group.add(p.job('kept', () => h.store.messages.enqueue(BOB, 'kept')));
    group.add(
      p.job('undone', () => {
        h.store.messages.enqueue(BOB, 'written, then undone with its savepoint');
        throw new DhtchatError('BOOM', 'refused');
      }),
    );
    group.add(p.job('also kept', () => h.store.messages.enqueue(BOB, 'also kept')));
    turns.end();
    assert.deepEqual(p.log.slice(3), ['committed kept', 'failed undone: BOOM', 'committed also kept']);
    assert.deepEqual(
      h
        .reopen()
        .messages.list(BOB)
        .map((m) => [m.text, m.seq]),
      [
        ['kept', 1],
        ['also kept', 2],
      ],
    );
  });

  test('a commit that fails fails every job of the group, and nothing of it is on disk', () => {
    const { h, turns, group } = setup();
    const p = probe();
    group.add(p.job('one', () => h.store.messages.enqueue(BOB, 'one')));
    group.add(p.job('two', () => h.store.messages.enqueue(BOB, 'two')));
    h.store.close();
    turns.end();
    assert.deepEqual(p.log, ['failed one: CHAT_STORE_CLOSED', 'failed two: CHAT_STORE_CLOSED']);
    assert.equal(h.reopen().messages.count(BOB), 0);
  });

  test('maxJobs waiting commit at once, without waiting for the end of the turn', () => {
    const { turns, group } = setup(4);
    const p = probe();
    for (let i = 0; i < 10; i++) group.add(p.job(`j${i}`));
    assert.deepEqual(group.stats, { groups: 2, jobs: 8 }, 'the 4th and the 8th job committed their groups');
    turns.end();
    assert.deepEqual(group.stats, { groups: 3, jobs: 10 });
    assert.equal(p.log.filter((line) => line.startsWith('committed')).length, 10);
  });

  test('a group is fsynced unless every job in it may be lost in a power cut', () => {
    const { turns, recording, commits } = setup();
    const p = probe();
    recording.add(p.job('receipt 1', undefined, 'process-crash'));
    recording.add(p.job('receipt 2', undefined, 'process-crash'));
    turns.end();
    recording.add(p.job('receipt 3', undefined, 'process-crash'));
    recording.add(p.job('a send'));
    turns.end();
    assert.deepEqual(commits, ['process-crash', 'power-loss']);
  });

  test('a job added from inside a write goes to the next group; one added by a callback too', () => {
    const { turns, group } = setup(1);
    const p = probe();
    group.add(
      p.job('outer', () => {
        group.add(p.job('from a write'));
        group.flush(); // ignored: the outer transaction is still open
      }),
    );
    assert.deepEqual(p.log, ['write outer', 'committed outer'], 'maxJobs 1: committed at once, alone');
    turns.end();
    assert.deepEqual(p.log.slice(2), ['write from a write', 'committed from a write']);
    assert.deepEqual(group.stats, { groups: 2, jobs: 2 });
  });

  test("a callback that throws is reported and the group's other jobs are still told", () => {
    const { turns, group, errors } = setup();
    const told: string[] = [];
    group.add({
      write: () => {},
      committed: () => {
        throw new Error('listener bug');
      },
      failed: () => {},
    });
    group.add({ write: () => {}, committed: () => void told.push('second'), failed: () => {} });
    turns.end();
    assert.deepEqual(told, ['second']);
    assert.equal(errors.length, 1);
  });

  test('close commits what waits; afterwards every job commits at once', () => {
    const { turns, group } = setup();
    const p = probe();
    group.add(p.job('waiting'));
    group.close();
    assert.deepEqual(p.log, ['write waiting', 'committed waiting']);
    group.add(p.job('late'));
    assert.deepEqual(p.log.slice(2), ['write late', 'committed late']);
    turns.end();
    assert.deepEqual(group.stats, { groups: 2, jobs: 2 });
  });
});
