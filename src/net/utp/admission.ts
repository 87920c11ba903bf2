/**
 * Who may hold a uTP connection, and who makes room for whom (issue 10 §1). Sans-I/O: it counts and decides;
 * the endpoint answers packets and resets what it is told to evict.
 *
 * Origins: `outgoing` (our own dials), `trusted` (incoming from an address the layer above vouches for:
 * friends' known hosts) and `stranger` (every other incoming connection). Half-open entries do not exist: a SYN
 * gets a stateless SYN-ACK (syn-cookie.ts), so all a half-open costs us is one SYN-ACK, budgeted by token
 * buckets per host, per subnet (/24 for IPv4, /64 for IPv6) and for all strangers together, and refused outright
 * when no room could be made. A connection exists once the initiator proved its address, and then:
 *
 *   strangers       at most maxStrangersPerHost from one host, maxStrangersPerSubnet from one subnet, and
 *                   maxStrangers in all; a stranger that finds its host, subnet or the pool full takes the
 *                   place of the oldest stranger there that has not yet had data of ours acked ("unproven":
 *                   oldest first), or is refused.
 *   trusted         at most maxTrustedPerHost from one host, the oldest unproven making room as for strangers:
 *                   whoever shares a friend's address is trusted too, and must not crowd out other friends.
 *   incoming        trusted + strangers: at most maxIncoming, so our own dials always have
 *                   maxConnections - maxIncoming slots no peer can take.
 *   all             at most maxConnections. Outgoing dials and trusted connections that find no room evict the
 *                   oldest stranger (unproven first): strangers never make our dials or friends fail.
 *
 * Trust is the listener's decision (isTrusted). A SYN from a trusted host spends only that host's own budget, not
 * its subnet's nor the strangers' (a friend sharing a /24 with an attacker still gets its SYN-ACK); a spoofed
 * friend's address gets SYN-ACKs, never a connection, since admission happens only once the address is proven.
 */
import type { UdpAddress } from '../../runtime/index.ts';
import { hostToBytes } from '../../wire/index.ts';
import { SourceBuckets } from './source-buckets.ts';

export type ConnectionOrigin = 'outgoing' | 'trusted' | 'stranger';

export interface AdmissionLimits {
  /** Every connection, ours and theirs. */
  maxConnections: number;
  /** Incoming connections, trusted and strangers together. */
  maxIncoming: number;
  /** Incoming connections from strangers. */
  maxStrangers: number;
  maxStrangersPerHost: number;
  /** Per /24 (IPv4) or /64 (IPv6). */
  maxStrangersPerSubnet: number;
  /** Trusted connections from one host (someone sharing a friend's address is trusted too, but only this far). */
  maxTrustedPerHost: number;
  /** SYN-ACKs a host (and a subnet) may get from us, per second and in a burst. */
  synAcksPerHostPerSec: number;
  synAckHostBurst: number;
  synAcksPerSubnetPerSec: number;
  synAckSubnetBurst: number;
  /**
   * SYN-ACKs for all strangers together: the CPU bound (each can turn into a ~40 µs connection set-up) when a
   * flood comes from more subnets than the per-subnet budget can hold back. Trusted hosts do not spend it.
   */
  strangerSynAcksPerSec: number;
  strangerSynAckBurst: number;
  /** SYN-ACKs for a trusted host (its own bucket: a spoofed friend's address cannot drain a stranger's). */
  synAcksPerTrustedHostPerSec: number;
  /** Sources whose SYN-ACK budget is tracked (per kind): the memory bound of the buckets. */
  maxTrackedSources: number;
}

export const DEFAULT_ADMISSION_LIMITS: Readonly<AdmissionLimits> = {
  maxConnections: 1024,
  maxIncoming: 960,
  maxStrangers: 768,
  maxStrangersPerHost: 16,
  maxStrangersPerSubnet: 64,
  maxTrustedPerHost: 32,
  synAcksPerHostPerSec: 10,
  synAckHostBurst: 20,
  synAcksPerSubnetPerSec: 50,
  synAckSubnetBurst: 100,
  strangerSynAcksPerSec: 2000,
  strangerSynAckBurst: 2000,
  synAcksPerTrustedHostPerSec: 100,
  maxTrackedSources: 4096,
};

/** The one key of the all-strangers SYN-ACK bucket. */
const ALL_STRANGERS = '';

/** What to do with a SYN: answer with a SYN-ACK, refuse (ST_RESET: no room could be made), or drop silently. */
export type SynDecision = 'syn-ack' | 'refuse' | 'over-budget';

/** Admitted (after evicting `evict`, if set), or refused. */
export type AdmissionDecision<T> =
  | { readonly isAdmitted: true; readonly origin: ConnectionOrigin; readonly evict: T | undefined }
  | { readonly isAdmitted: false };

interface Slot {
  readonly origin: ConnectionOrigin;
  readonly host: string;
  readonly subnet: string;
}

export interface AdmissionCounts {
  all: number;
  incoming: number;
  strangers: number;
  trackedHosts: number;
  trackedSubnets: number;
  trackedBudgets: number;
}

export class UtpAdmission<T> {
  readonly limits: AdmissionLimits;
  readonly #isProven: (item: T) => boolean;
  #isTrusted: (address: UdpAddress) => boolean = () => false;
  readonly #slots = new Map<T, Slot>();
  /** Strangers in admission order (the oldest first), all of them and per host and per subnet. */
  readonly #strangers = new Set<T>();
  readonly #byHost = new Map<string, T[]>();
  readonly #bySubnet = new Map<string, T[]>();
  readonly #trustedByHost = new Map<string, T[]>();
  #incoming = 0;
  readonly #hostSynAcks: SourceBuckets;
  readonly #subnetSynAcks: SourceBuckets;
  readonly #strangerSynAcks: SourceBuckets;
  readonly #trustedSynAcks: SourceBuckets;

  constructor(isProven: (item: T) => boolean, limits: Partial<AdmissionLimits> = {}) {
    this.limits = { ...DEFAULT_ADMISSION_LIMITS, ...limits };
    this.#isProven = isProven;
    const l = this.limits;
    const maxSources = l.maxTrackedSources;
    this.#hostSynAcks = new SourceBuckets({
      ratePerSec: l.synAcksPerHostPerSec,
      burst: l.synAckHostBurst,
      maxSources,
    });
    this.#subnetSynAcks = new SourceBuckets({
      ratePerSec: l.synAcksPerSubnetPerSec,
      burst: l.synAckSubnetBurst,
      maxSources,
    });
    this.#strangerSynAcks = new SourceBuckets({
      ratePerSec: l.strangerSynAcksPerSec,
      burst: l.strangerSynAckBurst,
      maxSources: 1,
    });
    this.#trustedSynAcks = new SourceBuckets({
      ratePerSec: l.synAcksPerTrustedHostPerSec,
      burst: l.synAcksPerTrustedHostPerSec,
      maxSources,
    });
  }

  /** Sets the listener's trust policy (friends' known hosts, from the layer above). */
  setTrust(isTrusted: (address: UdpAddress) => boolean): void {
    this.#isTrusted = isTrusted;
  }

  get counts(): AdmissionCounts {
    return {
      all: this.#slots.size,
      incoming: this.#incoming,
      strangers: this.#strangers.size,
      trackedHosts: this.#byHost.size + this.#trustedByHost.size,
      trackedSubnets: this.#bySubnet.size,
      trackedBudgets: this.#hostSynAcks.size + this.#subnetSynAcks.size + this.#trustedSynAcks.size,
    };
  }

  /** A SYN from `remote` (its address not proven yet): spend its SYN-ACK budget if there could be room. */
  onSyn(remote: UdpAddress, nowMs: number): SynDecision {
    const host = remote.host;
    if (this.#isTrusted(remote)) {
      if (!this.#trustedSynAcks.take(host, nowMs)) return 'over-budget';
      return this.#canMakeRoom('trusted', host, subnetOf(host)) ? 'syn-ack' : 'refuse';
    }
    const subnet = subnetOf(host);
    // Every bucket must have a token before any is spent.
    if (
      !this.#hostSynAcks.canTake(host, nowMs) ||
      !this.#subnetSynAcks.canTake(subnet, nowMs) ||
      !this.#strangerSynAcks.canTake(ALL_STRANGERS, nowMs)
    ) {
      return 'over-budget';
    }
    this.#hostSynAcks.take(host, nowMs);
    this.#subnetSynAcks.take(subnet, nowMs);
    this.#strangerSynAcks.take(ALL_STRANGERS, nowMs);
    return this.#canMakeRoom('stranger', host, subnet) ? 'syn-ack' : 'refuse';
  }

  /** `remote` proved its address (a valid cookie): may it have a connection, and whom must it replace? */
  admitIncoming(remote: UdpAddress): AdmissionDecision<T> {
    const origin: ConnectionOrigin = this.#isTrusted(remote) ? 'trusted' : 'stranger';
    return this.#decide(origin, remote.host, subnetOf(remote.host));
  }

  /** Our own dial: admitted unless every slot is held by us and by trusted peers. */
  admitOutgoing(): AdmissionDecision<T> {
    return this.#decide('outgoing', '', '');
  }

  /** Records an admitted connection (after the eviction, if any, was removed). */
  add(item: T, origin: ConnectionOrigin, remote: UdpAddress): void {
    const slot: Slot = {
      origin,
      host: remote.host,
      subnet: origin === 'stranger' ? subnetOf(remote.host) : '',
    };
    this.#slots.set(item, slot);
    if (origin !== 'outgoing') this.#incoming++;
    if (origin === 'trusted') pushTo(this.#trustedByHost, slot.host, item);
    if (origin !== 'stranger') return;
    this.#strangers.add(item);
    pushTo(this.#byHost, slot.host, item);
    pushTo(this.#bySubnet, slot.subnet, item);
  }

  /** Forgets a connection (closed, or evicted). */
  remove(item: T): void {
    const slot = this.#slots.get(item);
    if (slot === undefined) return;
    this.#slots.delete(item);
    if (slot.origin !== 'outgoing') this.#incoming--;
    if (slot.origin === 'trusted') removeFrom(this.#trustedByHost, slot.host, item);
    if (slot.origin !== 'stranger') return;
    this.#strangers.delete(item);
    removeFrom(this.#byHost, slot.host, item);
    removeFrom(this.#bySubnet, slot.subnet, item);
  }

  originOf(item: T): ConnectionOrigin | undefined {
    return this.#slots.get(item)?.origin;
  }

  #canMakeRoom(origin: ConnectionOrigin, host: string, subnet: string): boolean {
    return this.#decide(origin, host, subnet).isAdmitted;
  }

  /**
   * The narrowest scope that is full decides: one eviction there frees a slot in every wider scope too (a
   * stranger of this host is one of this subnet, of the strangers, of the incoming and of all).
   */
  #decide(origin: ConnectionOrigin, host: string, subnet: string): AdmissionDecision<T> {
    const l = this.limits;
    const isAllFull = this.#slots.size >= l.maxConnections;
    if (origin === 'stranger') {
      const unproven = (items: Iterable<T> | undefined): AdmissionDecision<T> => {
        const evict = this.#oldest(items, true);
        return evict === undefined ? { isAdmitted: false } : { isAdmitted: true, origin, evict };
      };
      if ((this.#byHost.get(host)?.length ?? 0) >= l.maxStrangersPerHost)
        return unproven(this.#byHost.get(host));
      if ((this.#bySubnet.get(subnet)?.length ?? 0) >= l.maxStrangersPerSubnet) {
        return unproven(this.#bySubnet.get(subnet));
      }
      if (this.#strangers.size >= l.maxStrangers || this.#incoming >= l.maxIncoming || isAllFull) {
        return unproven(this.#strangers);
      }
      return { isAdmitted: true, origin, evict: undefined };
    }
    const fromHost = origin === 'trusted' ? this.#trustedByHost.get(host) : undefined;
    if ((fromHost?.length ?? 0) >= l.maxTrustedPerHost) {
      const evict = this.#oldest(fromHost, true);
      return evict === undefined ? { isAdmitted: false } : { isAdmitted: true, origin, evict };
    }
    const isFull = isAllFull || (origin === 'trusted' && this.#incoming >= l.maxIncoming);
    if (!isFull) return { isAdmitted: true, origin, evict: undefined };
    const evict = this.#oldest(this.#strangers, true) ?? this.#oldest(this.#strangers, false);
    return evict === undefined ? { isAdmitted: false } : { isAdmitted: true, origin, evict };
  }

  /** The oldest item (unproven only, or any), in admission order. */
  #oldest(items: Iterable<T> | undefined, isUnprovenOnly: boolean): T | undefined {
    if (items === undefined) return undefined;
    for (const item of items) if (!isUnprovenOnly || !this.#isProven(item)) return item;
    return undefined;
  }
}

/** The /24 (IPv4) or /64 (IPv6) a host belongs to: the unit one party is assumed to control. */
export function subnetOf(host: string): string {
  if (!host.includes(':')) {
    const lastDot = host.lastIndexOf('.');
    return lastDot < 0 ? host : `${host.slice(0, lastDot)}.0/24`;
  }
  const bytes = hostToBytes(host);
  return bytes === undefined ? host : `${bytes.subarray(0, 8).toString('hex')}/64`;
}

function pushTo<T>(map: Map<string, T[]>, key: string, item: T): void {
  const list = map.get(key);
  if (list === undefined) map.set(key, [item]);
  else list.push(item);
}

function removeFrom<T>(map: Map<string, T[]>, key: string, item: T): void {
  const list = map.get(key);
  if (list === undefined) return;
  const at = list.indexOf(item);
  if (at >= 0) list.splice(at, 1);
  if (list.length === 0) map.delete(key);
}
