/**
 * What both load generators (krpc-load.ts, krpc-blast.c) print for each rate step: one JSON object per line on
 * stdout. Rates are per second of sending; replies that arrive in the drain gap after a step still count.
 */
export interface LoadStep {
  offeredPerS: number;
  /** Below offeredPerS when the generator (or a full socket buffer) could not keep up. */
  sentPerS: number;
  /** Valid replies (y = r, a 20-byte id) to this step's queries. */
  answeredPerS: number;
  /** (sent − answered) / sent, in percent. */
  lossPct: number;
  p50Ms: number | null;
  p99Ms: number | null;
  /** Replies with y = e. */
  krpcErrors: number;
  /** Packets that matched no query of the step (a query from the server, a late or repeated reply) or were not a valid response. */
  badReplies: number;
  /** Sends refused (socket buffer full, or the target port closed). */
  sendBlocked: number;
  /** The server's CPU over the step and its drain gap, in percent of one core (null without --server-pid). */
  serverCpuPct: number | null;
  serverRssMb: number | null;
}

/** The step lines of a generator's stdout. */
export function parseLoadSteps(stdout: string): LoadStep[] {
  return stdout
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as LoadStep);
}

/** The highest answered rate among steps sent at ≥ 97 % of the offered rate with loss ≤ maxLossPct. */
export function sustainedStep(steps: readonly LoadStep[], maxLossPct = 1): LoadStep | undefined {
  return steps
    .filter((s) => s.lossPct <= maxLossPct && s.sentPerS >= 0.97 * s.offeredPerS)
    .reduce<LoadStep | undefined>(
      (best, s) => (best === undefined || s.answeredPerS > best.answeredPerS ? s : best),
      undefined,
    );
}

/** The step with the most answers per second. */
export function peakStep(steps: readonly LoadStep[]): LoadStep | undefined {
  return steps.reduce<LoadStep | undefined>(
    (best, s) => (best === undefined || s.answeredPerS > best.answeredPerS ? s : best),
    undefined,
  );
}
