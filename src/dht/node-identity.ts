/**
 * Our BEP 42 identity: the node id, the external address voted by responders, and the compliance rule we apply
 * to others. https://www.bittorrent.org/beps/bep_0042.html
 *
 * - Every response's top-level `ip` is a vote (external-ip.ts counts distinct voters, one voter per family so a
 *   dual-stack node's IPv4 and IPv6 reports do not compete for one majority).
 * - On a confirmed external IPv4 address (IPv6 when the node has no IPv4) whose rule our current id does not
 *   satisfy, we draw a new BEP 42 id for it and report the re-key; the node then re-keys its routing tables.
 * - Then a confirmed address that replaces another one, or brought a re-key, is reported as a change: the node
 *   joins again from where it now is (joiner.ts).
 * - compliant(node) = isNodeIdValidForHost(id, host) || (isBep42Exempt(host) && !enforceBep42OnPrivate).
 *   Our own id is judged by the same rule, so on loopback we only re-key when enforcement covers loopback.
 */
import type { NodeInfo, UdpAddress } from './dht-types.ts';
import { classifyHost, familyOf, isAdmittedWhenPrivateAllowed, isPublicHost } from './address-class.ts';
import { isBep42Exempt, isNodeIdValidForHost, nodeIdForHost } from './bep42.ts';
import { EXTERNAL_IP_MIN_VOTES } from './constants.ts';
import { ExternalIpVoter } from './external-ip.ts';
import { randomNodeId, shortId } from './node-id.ts';
import type { Logger, Random } from '../runtime/index.ts';

export interface NodeIdentityOptions {
  random: Random;
  logger: Logger;
  /** Initial id (explicit option or saved state); random when absent. */
  id?: Buffer;
  allowPrivate: boolean;
  enforceBep42OnPrivate: boolean;
  /** Families the node speaks; the id follows IPv4 when it is among them. */
  families: readonly (4 | 6)[];
  minVotes?: number;
  /** Called after a re-key with the new id. */
  onRekey(newId: Buffer, externalHost: string): void;
  /** Called after onRekey (if any) when the confirmed address replaced another one or brought a re-key. */
  onAddressChange?(change: AddressChange): void;
}

export interface AddressChange {
  readonly host: string;
  /** The address confirmed before; undefined for the first one (reported only when it brought a re-key). */
  readonly previousHost: string | undefined;
  readonly isRekeyed: boolean;
}

export class NodeIdentity {
  readonly #opts: NodeIdentityOptions;
  readonly #voters: { 4: ExternalIpVoter; 6: ExternalIpVoter };
  #id: Buffer;
  rekeyCount = 0;

  constructor(opts: NodeIdentityOptions) {
    this.#opts = opts;
    this.#id = Buffer.from(opts.id ?? randomNodeId(opts.random));
    // Voters must be public hosts; a test network (allowPrivate: loopback, a LAN, the lab's 198.18/15) lets
    // everyone vote.
    const isEligibleVoter = (host: string) =>
      isPublicHost(host) || (opts.allowPrivate && isAdmittedWhenPrivateAllowed(host));
    const minVotes = opts.minVotes ?? EXTERNAL_IP_MIN_VOTES;
    this.#voters = {
      4: new ExternalIpVoter({ minVotes, isEligibleVoter }),
      6: new ExternalIpVoter({ minVotes, isEligibleVoter }),
    };
  }

  get id(): Buffer {
    return this.#id;
  }

  /** The family whose external address decides our id. */
  get idFamily(): 4 | 6 {
    return this.#opts.families.includes(4) ? 4 : 6;
  }

  /** The confirmed external address of the id family (or the other one when that is all we have). */
  externalAddress(): UdpAddress | undefined {
    const other = this.idFamily === 4 ? 6 : 4;
    return this.#voters[this.idFamily].currentAddress() ?? this.#voters[other].currentAddress();
  }

  /**
   * How the voters of the id family heard from within sinceMs see us: the host most of them name (the
   * confirmed one on a tie) and the port each of those saw (ExternalIpVoter.reportsSince). What the chat layer
   * reads our NAT's mapping behaviour, and a move, from.
   */
  externalReports(nowMs: number, sinceMs: number): { host: string; ports: number[] } | undefined {
    const voter = this.#voters[this.idFamily];
    const byHost = new Map<string, number[]>();
    for (const r of voter.reportsSince(nowMs, sinceMs)) {
      const ports = byHost.get(r.host) ?? [];
      ports.push(r.port);
      byHost.set(r.host, ports);
    }
    const confirmed = voter.current();
    let best: { host: string; ports: number[] } | undefined;
    for (const [host, ports] of byHost) {
      const isBetter =
        best === undefined ||
        ports.length > best.ports.length ||
        (ports.length === best.ports.length && host === confirmed);
      if (isBetter) best = { host, ports };
    }
    return best;
  }

  /** A responder at voterHost says it sees us as `reported`. Re-keys when that confirms a change. */
  vote(voterHost: string, reported: UdpAddress, nowMs: number): void {
    const family = familyOf(voterHost);
    if (!this.#opts.families.includes(family)) return;
    const previousHost = this.#voters[family].current();
    const confirmed = this.#voters[family].vote(voterHost, reported, nowMs);
    if (confirmed === undefined || family !== this.idFamily) return;
    this.#opts.logger.info({ externalHost: confirmed }, 'external address confirmed');
    const isRekeyed = this.#rekeyFor(confirmed);
    if (isRekeyed || previousHost !== undefined) {
      this.#opts.onAddressChange?.({ host: confirmed, previousHost, isRekeyed });
    }
  }

  /** A new BEP 42 id when ours does not fit the confirmed address; true if it changed. */
  #rekeyFor(confirmed: string): boolean {
    if (this.isIdCompliantFor(this.#id, confirmed)) return false;
    const cls = classifyHost(confirmed);
    if (cls === 'unspecified' || cls === 'multicast' || cls === 'reserved') return false;
    const oldId = this.#id;
    this.#id = nodeIdForHost(confirmed, this.#opts.random);
    this.rekeyCount++;
    this.#opts.logger.info({ oldId: shortId(oldId), newId: shortId(this.#id) }, 'BEP 42 re-key');
    this.#opts.onRekey(this.#id, confirmed);
    return true;
  }

  /** BEP 42 with the exemption switch: is this node's id acceptable for its address? */
  /** Whether private/loopback hosts must carry BEP 42 ids too (lets callers skip the CRC for exempt hosts). */
  get enforcesBep42OnPrivate(): boolean {
    return this.#opts.enforceBep42OnPrivate;
  }

  isCompliant(node: NodeInfo): boolean {
    return this.isIdCompliantFor(node.id, node.address.host);
  }

  isIdCompliantFor(id: Buffer, host: string): boolean {
    if (isNodeIdValidForHost(id, host)) return true;
    return isBep42Exempt(host) && !this.#opts.enforceBep42OnPrivate;
  }
}
