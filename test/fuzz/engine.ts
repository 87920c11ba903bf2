/**
 * The fuzzing loop for one target: a mix of pure random inputs (10 %), seeds as they are (2 %) and mutations of
 * the corpus (the rest). The corpus starts from the target's seeds and grows with every input whose outcome key
 * is new (a cheap stand-in for coverage guidance: a new rejection code, field or accepted shape), up to
 * MAX_CORPUS entries. Any throw out of target.run is a crash: recorded with the seed, the input's index and its
 * bytes, and the run goes on. Memory is sampled as it runs; inputs/s and totals are reported.
 */
import { memoryUsage } from 'node:process';
import { FuzzRandom } from './fuzz-random.ts';
import type { FuzzTarget } from './fuzz-target.ts';
import { mutate } from './mutator.ts';

const MAX_CORPUS = 4096;
const SAMPLE_EVERY = 4096;
const MAX_CRASHES_KEPT = 10;
const RANDOM_INPUT_MAX_BYTES = 256;

export interface FuzzCrash {
  target: string;
  seed: number;
  index: number;
  inputHex: string;
  error: string;
}

export interface FuzzReport {
  target: string;
  decoders: string;
  seed: number;
  inputs: number;
  crashes: number;
  firstCrashes: FuzzCrash[];
  durationMs: number;
  inputsPerSec: number;
  /** Distinct outcome keys seen, and the corpus they grew. */
  outcomes: number;
  corpusSize: number;
  maxRssMb: number;
  maxHeapUsedMb: number;
}

export interface FuzzOptions {
  inputs: number;
  seed: number;
  /** Stop early when this much wall time has passed (the report says how many inputs ran). */
  maxMs?: number;
}

export function fuzzTarget(target: FuzzTarget, opts: FuzzOptions): FuzzReport {
  const random = new FuzzRandom(opts.seed);
  const seeds = target.seeds(random);
  const corpus: Buffer[] = [...seeds];
  const outcomes = new Set<string>();
  const firstCrashes: FuzzCrash[] = [];
  const crashMessages = new Set<string>();
  let crashes = 0;
  let maxRss = 0;
  let maxHeap = 0;
  const mutation = { random, corpus, dictionary: target.dictionary, maxBytes: target.maxInputBytes };
  const startMs = performance.now();
  let done = 0;
  for (; done < opts.inputs; done++) {
    if (done % SAMPLE_EVERY === 0) {
      const m = memoryUsage();
      maxRss = Math.max(maxRss, m.rss);
      maxHeap = Math.max(maxHeap, m.heapUsed);
      if (opts.maxMs !== undefined && performance.now() - startMs > opts.maxMs) break;
    }
    const roll = random.int(100);
    const input =
      roll < 10
        ? random.bytes(random.int(RANDOM_INPUT_MAX_BYTES))
        : roll < 12
          ? random.pick(seeds)
          : mutate(random.pick(corpus), mutation);
    try {
      const outcome = target.run(input);
      if (!outcomes.has(outcome)) {
        outcomes.add(outcome);
        if (corpus.length < MAX_CORPUS) corpus.push(Buffer.from(input));
      }
    } catch (error) {
      crashes++;
      const message = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
      if (firstCrashes.length < MAX_CRASHES_KEPT && !crashMessages.has(message)) {
        crashMessages.add(message);
        firstCrashes.push({
          target: target.name,
          seed: opts.seed,
          index: done,
          inputHex: input.toString('hex'),
          error: error instanceof Error ? (error.stack ?? message) : message,
        });
      }
    }
  }
  const durationMs = performance.now() - startMs;
  const m = memoryUsage();
  return {
    target: target.name,
    decoders: target.decoders,
    seed: opts.seed,
    inputs: done,
    crashes,
    firstCrashes,
    durationMs: Math.round(durationMs),
    inputsPerSec: Math.round(done / Math.max(durationMs / 1000, 1e-6)),
    outcomes: outcomes.size,
    corpusSize: corpus.length,
    maxRssMb: Math.round(Math.max(maxRss, m.rss) / 2 ** 20),
    maxHeapUsedMb: Math.round(Math.max(maxHeap, m.heapUsed) / 2 ** 20),
  };
}
