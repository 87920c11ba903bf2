/**
 * What a scenario is (sim/scenarios/*.ts): a named function from options to a report. The report is a pure
 * function of the options — nodes, seed, parameters — never of wall time or the machine, so the same seed gives
 * the same bytes (test/sim/dht-lookups.test.ts); what the run cost (wall time, memory) is returned beside it.
 */

export interface ScenarioOptions {
  /** Simulated hosts (routers and probes included). */
  nodes: number;
  seed: string;
  /** Scenario parameters from the command line (--name value), as given. */
  params: Readonly<Record<string, string>>;
  /** Wall-clock bound of the whole run; the scenario fails rather than run longer. */
  maxWallMs: number;
  /** Progress lines (stderr in the CLI; nothing in tests). */
  log?: (line: string) => void;
}

export interface ScenarioReport {
  /** docs/sim/<name>.md, and the name of every file in `files`. */
  name: string;
  markdown: string;
  /** Other files of the report by name (SVG plots). */
  files: Readonly<Record<string, string>>;
  /** Machine-readable results (the CLI prints them as JSON). */
  results: unknown;
  /** Simulated events run, a measure of the work (deterministic). */
  events: number;
}

export interface Scenario {
  readonly name: string;
  readonly summary: string;
  run(options: ScenarioOptions): Promise<ScenarioReport>;
}

/** A numeric parameter (--name 12.5), or the default. */
export function numberParam(options: ScenarioOptions, name: string, fallback: number): number {
  const raw = options.params[name];
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value)) throw new RangeError(`--${name} must be a number, got ${raw}`);
  return value;
}
