/**
 * Crash safety: a child writes messages in a tight loop and is kill -9'd at random moments, several times on
 * the same database. After each kill, every id the child printed (it prints only after the write returned) is
 * there exactly once, the per-conversation sequence has no holes, and integrity_check passes. Some of the
 * child's commits are 'process-crash' ones (not fsync'd): kill -9 must not lose those either.
 */
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { SeededRandom } from '../../../src/runtime/index.ts';
import { startChild } from './child-runner.ts';
import { BOB, openStore, tempDir } from './store-harness.ts';

const ROUNDS = 6;

test('kill -9 at random moments loses no committed message and never corrupts the database', async (t) => {
  const seed = Date.now() % 1_000_000;
  const random = new SeededRandom(seed);
  const dir = tempDir();
  const path = join(dir, 'chat.sqlite');
  const committed = new Set<string>();
  const perRound: number[] = [];
  try {
    for (let round = 0; round < ROUNDS; round++) {
      const run = startChild('insert', path);
      // The kill falls at a random moment after the child has committed its first message: on a loaded
      // machine start-up alone can take longer than the whole window.
      await Promise.race([run.firstId, run.exited]);
      const delayMs = random.int(250);
      await new Promise((resolve) => setTimeout(resolve, delayMs));
      run.child.kill('SIGKILL');
      await run.exited;
      for (const id of run.ids) committed.add(id);
      perRound.push(run.ids.length);
      assert.ok(
        run.ids.length > 0,
        `round ${round} (seed ${seed}): the child wrote nothing in ${delayMs} ms`,
      );

      const store = openStore(path);
      try {
        assert.deepEqual(store.integrityCheck(), ['ok'], `seed ${seed} round ${round}`);
        const all = store.messages.list(BOB, { limit: 1_000_000 });
        const byId = new Map<string, number>();
        for (const m of all) byId.set(m.id.toString('hex'), (byId.get(m.id.toString('hex')) ?? 0) + 1);
        for (const id of committed)
          assert.equal(byId.get(id), 1, `seed ${seed} round ${round}: ${id} missing`);
        assert.deepEqual(
          all.map((m) => m.seq),
          all.map((_m, i) => i + 1),
          `seed ${seed}: sequence has holes`,
        );
        // At most the one write in flight at the kill may be there unreported.
        assert.ok(all.length - committed.size <= 1 + round, `seed ${seed}: unexpected extra rows`);
      } finally {
        store.close();
      }
    }
    t.diagnostic(
      `seed ${seed}: ${committed.size} committed ids over ${ROUNDS} kills (${perRound.join(', ')})`,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
