/** The real bootstrap server on the simulator: nodes join through it alone, and the report replays from its seed. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { bootstrapLoad } from '../../sim/scenarios/bootstrap-load.ts';

test('bootstrap-load: every node joins through the bootstrap server alone; same seed, same report', async () => {
  const run = () =>
    bootstrapLoad.run({ nodes: 60, seed: 'boot', params: { rates: '50' }, maxWallMs: 60_000 });
  const first = await run();
  const second = await run();
  assert.equal(second.markdown, first.markdown);
  const { rates } = first.results as {
    rates: Array<{ joined: number; responses: number; inPerSec: number }>;
  };
  assert.equal(rates[0]?.joined, 60, first.markdown);
  assert.ok((rates[0]?.responses ?? 0) >= 60, 'the server answered every joiner at least once');
  assert.ok((rates[0]?.inPerSec ?? 0) > 0);
});
