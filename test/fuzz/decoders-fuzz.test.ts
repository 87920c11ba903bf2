/**
 * The seeded slice of `npm run fuzz` that runs in npm test: every decoder's target (test/fuzz/targets/) for 2,000
 * inputs (500 for the Noise handshake target, whose inputs each cost several X25519 operations), about 5 s in
 * all. No crash, the heap back near where it was, and both sides of each decoder reached (an accepting and a
 * rejecting outcome). FUZZ_SEED replays another slice.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { fuzzTarget } from './engine.ts';
import { FUZZ_TARGETS } from './targets/index.ts';

const SEED = Number(process.env['FUZZ_SEED'] ?? 20_261_207);
const INPUTS = 2_000;
const DH_BOUND_INPUTS = 500;
const MAX_HEAP_GROWTH_BYTES = 32 * 2 ** 20;

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

describe(`decoder fuzz targets, seed ${SEED}`, () => {
  for (const target of FUZZ_TARGETS) {
    const inputs = target.weight < 1 ? DH_BOUND_INPUTS : INPUTS;
    test(`${target.name}: ${inputs} inputs, no crash, memory bounded`, () => {
      gc();
      const heapBefore = process.memoryUsage().heapUsed;
      const report = fuzzTarget(target, { inputs, seed: SEED });
      gc();
      const crash = report.firstCrashes[0];
      assert.equal(
        report.crashes,
        0,
        crash === undefined
          ? ''
          : `#${crash.index} (FUZZ_SEED=${SEED}) input ${crash.inputHex.slice(0, 600)}\n${crash.error}`,
      );
      assert.equal(report.inputs, inputs);
      assert.ok(
        report.outcomes >= 2,
        `only ${report.outcomes} outcome(s): the mutations do not reach the decoder`,
      );
      const growth = process.memoryUsage().heapUsed - heapBefore;
      assert.ok(growth < MAX_HEAP_GROWTH_BYTES, `heap grew ${Math.round(growth / 2 ** 20)} MB`);
    });
  }
});
