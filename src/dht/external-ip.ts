/**
 * External IP voting (BEP 42 §Bootstrapping): every response carries a top-level `ip` telling us how the
 * responder sees us. One node cannot be trusted, so we keep the latest report of each distinct voter IP within a
 * window and confirm an address only when it has at least `minVotes` voters AND a clear majority (more than half)
 * of all recent voters — a few liars or a minority on a stale NAT mapping cannot move us, and re-keying (which
 * costs the routing table its position) happens only on a confirmed change.
 *
 * Memory is bounded: at most `maxVoters` voters (the least recently heard is forgotten first), and a per-address
 * tally kept incrementally so a vote costs O(1) amortized.
 */
import type { UdpAddress } from '../runtime/index.ts';
import { classifyHost, familyOf, ipBytesOf } from './address-class.ts';
import { EXTERNAL_IP_MAX_VOTERS, EXTERNAL_IP_MIN_VOTES, EXTERNAL_IP_WINDOW_MS } from './constants.ts';

interface Vote {
  readonly reportedHost: string;
  readonly reportedPort: number;
  readonly atMs: number;
}

export interface ExternalIpVoterOptions {
  /** Distinct voters needed for a confirmation (default EXTERNAL_IP_MIN_VOTES). */
  readonly minVotes?: number;
  /** Who may vote. Typically public hosts only; tests on loopback accept everyone. */
  isEligibleVoter(host: string): boolean;
  /** Votes older than this are forgotten (default EXTERNAL_IP_WINDOW_MS). */
  readonly windowMs?: number;
  /** At most this many voters are remembered (default EXTERNAL_IP_MAX_VOTERS). */
  readonly maxVoters?: number;
  /** Called once per confirmed change, with the new host. */
  readonly onChange?: (host: string) => void;
  /**
   * Voters on these hosts count one per host:port instead of one per host (a loopback test network, where every
   * node is 127.0.0.1); only when vote() is given the voter's port.
   */
  readonly isDistinctByPort?: (host: string) => boolean;
}

export class ExternalIpVoter {
  readonly #minVotes: number;
  readonly #windowMs: number;
  readonly #maxVoters: number;
  readonly #isEligibleVoter: (host: string) => boolean;
  readonly #onChange: ((host: string) => void) | undefined;
  readonly #isDistinctByPort: (host: string) => boolean;
  /** voter (host, or host#port when distinct by port) → its latest vote; Map order = arrival order (oldest first). */
  readonly #votes = new Map<string, Vote>();
  /** reported host → number of voters currently naming it. */
  readonly #tally = new Map<string, number>();
  #current: string | undefined;
  #currentPort: number | undefined;

  constructor(opts: ExternalIpVoterOptions) {
    this.#minVotes = Math.max(1, opts.minVotes ?? EXTERNAL_IP_MIN_VOTES);
    this.#windowMs = opts.windowMs ?? EXTERNAL_IP_WINDOW_MS;
    this.#maxVoters = Math.max(1, opts.maxVoters ?? EXTERNAL_IP_MAX_VOTERS);
    this.#isEligibleVoter = opts.isEligibleVoter;
    this.#onChange = opts.onChange;
    this.#isDistinctByPort = opts.isDistinctByPort ?? (() => false);
  }

  /**
   * Records that voterHost sees us as `reported`. Returns the new host when this vote confirmed a change (also
   * passed to onChange), undefined otherwise. Ignores ineligible voters, reports that are not IP addresses or
   * are unspecified/multicast, and reports of another address family than the voter's.
   */
  vote(voterHost: string, reported: UdpAddress, nowMs: number, voterPort?: number): string | undefined {
    this.#expire(nowMs);
    if (!this.#isEligibleVoter(voterHost) || ipBytesOf(voterHost) === undefined) return undefined;
    const voter =
      voterPort !== undefined && this.#isDistinctByPort(voterHost) ? `${voterHost}#${voterPort}` : voterHost;
    const reportedClass = classifyHost(reported.host);
    if (reportedClass === 'unspecified' || reportedClass === 'multicast') return undefined;
    if (ipBytesOf(reported.host) === undefined || familyOf(reported.host) !== familyOf(voterHost))
      return undefined;

    this.#forget(voter);
    this.#votes.set(voter, { reportedHost: reported.host, reportedPort: reported.port, atMs: nowMs });
    this.#tally.set(reported.host, (this.#tally.get(reported.host) ?? 0) + 1);
    if (reported.host === this.#current) this.#currentPort = reported.port;
    while (this.#votes.size > this.#maxVoters) {
      const oldest = this.#votes.keys().next().value;
      if (oldest === undefined) break;
      this.#forget(oldest);
    }
    return this.#elect(reported);
  }

  /** The confirmed external host, if any. */
  current(): string | undefined {
    return this.#current;
  }

  /** The confirmed external host with the port most recently reported for it. */
  currentAddress(): UdpAddress | undefined {
    if (this.#current === undefined || this.#currentPort === undefined) return undefined;
    return { host: this.#current, port: this.#currentPort };
  }

  /**
   * What each voter heard from within sinceMs reported (its latest report): the host and port it saw us on.
   * Unlike current(), no majority over the whole window is needed: after a move the new address shows here
   * as soon as a few nodes answered from where we are now. One port for all: our NAT keeps one mapping;
   * many ports: it maps per destination (symmetric).
   */
  reportsSince(nowMs: number, sinceMs: number): UdpAddress[] {
    this.#expire(nowMs);
    const reports: UdpAddress[] = [];
    for (const vote of this.#votes.values()) {
      if (nowMs - vote.atMs <= sinceMs) reports.push({ host: vote.reportedHost, port: vote.reportedPort });
    }
    return reports;
  }

  /** Number of voters currently remembered (for stats and tests). */
  voterCount(): number {
    return this.#votes.size;
  }

  // Only the address just voted for can have newly reached a majority, so it is the only candidate to check.
  #elect(candidate: UdpAddress): string | undefined {
    if (candidate.host === this.#current) return undefined;
    const votes = this.#tally.get(candidate.host) ?? 0;
    if (votes < this.#minVotes || votes * 2 <= this.#votes.size) return undefined;
    this.#current = candidate.host;
    this.#currentPort = candidate.port;
    this.#onChange?.(candidate.host);
    return candidate.host;
  }

  #forget(voterHost: string): void {
    const old = this.#votes.get(voterHost);
    if (old === undefined) return;
    this.#votes.delete(voterHost);
    const left = (this.#tally.get(old.reportedHost) ?? 1) - 1;
    if (left <= 0) this.#tally.delete(old.reportedHost);
    else this.#tally.set(old.reportedHost, left);
  }

  #expire(nowMs: number): void {
    for (const [voter, vote] of this.#votes) {
      if (vote.atMs > nowMs - this.#windowMs) break;
      this.#forget(voter);
    }
  }
}
