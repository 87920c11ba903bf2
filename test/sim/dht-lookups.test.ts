/**
 * The short DHT lookup scenario (a few seconds): it runs, its lookups succeed on a calm network, and the same
 * seed gives the same report byte for byte while another seed does not.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ScenarioReport } from '../../sim/scenario.ts';
import { dhtLookups } from '../../sim/scenarios/dht-lookups.ts';

const run = (seed: string): Promise<ScenarioReport> =>
  dhtLookups.run({
    nodes: 80,
    seed,
    params: { samples: '6', settle: '20', churn: '0,20' },
    maxWallMs: 120_000,
  });

test('dht-lookups: the same seed gives the same report, byte for byte', async () => {
  const first = await run('determinism');
  const second = await run('determinism');
  assert.equal(second.markdown, first.markdown);
  assert.deepEqual(second.files, first.files);
  assert.equal(second.events, first.events);
  const other = await run('another seed');
  assert.notEqual(other.markdown, first.markdown);

  const rows = first.markdown
    .split('\n')
    .filter((line) => /^\| (0|20) % \| (get|get_peers|put) \|/.test(line));
  assert.equal(rows.length, 6, first.markdown);
  const calmGet = rows.find((line) => line.startsWith('| 0 % | get |'));
  assert.match(calmGet ?? '', /\| 6 \| 100\.0 % \|/, 'every get finds the item on a calm network');
  assert.match(
    first.files['dht-lookups-get-cdf.svg'] ?? '',
    /^<svg [^>]*>[\s\S]*<polyline [\s\S]*<\/svg>\n$/,
  );
});

test('dht-lookups: --pairs spreads the same samples over more probe pairs, and rejects a non-count', async () => {
  const report = await dhtLookups.run({
    nodes: 80,
    seed: 'pairs',
    params: { samples: '6', settle: '20', churn: '0', pairs: '6' },
    maxWallMs: 120_000,
  });
  assert.match(report.markdown, /; 6 writer\/reader probe pairs;/);
  assert.match(report.markdown, / --pairs 6 /, 'the command in the report names it');
  const get = report.markdown.split('\n').find((line) => line.startsWith('| 0 % | get |'));
  assert.match(get ?? '', /^\| 0 % \| get \| 6 \|/, 'one cycle per pair: still 6 samples');
  for (const pairs of ['0', '2.5']) {
    await assert.rejects(
      dhtLookups.run({ nodes: 80, seed: 'pairs', params: { pairs }, maxWallMs: 10_000 }),
      /--pairs takes a whole number/,
    );
  }
});
