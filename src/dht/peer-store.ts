/**
 * Peers announced to us (BEP 5 announce_peer), per info-hash and per address family (BEP 32: the IPv4 and IPv6
 * DHTs are separate), with BEP 33 seed flags and scrape filters and BEP 51 info-hash samples.
 * https://www.bittorrent.org/beps/bep_0005.html · bep_0033.html · bep_0051.html
 *
 * Storage only stores: the token and the port are checked in handlers/announce-peer.ts. Everything is bounded:
 * - info-hashes: at most maxInfoHashes, the least recently announced one is dropped for a new one;
 * - peers: at most maxPeersPerInfoHash per family (a full swarm takes no new peer, and get_peers withholds the
 *   token from newcomers so their announces spill over to neighbours, as libtorrent and BEP 33 do), at most
 *   maxPortsPerIp entries of one IP in a swarm (relaxed for hosts the caller names, e.g. loopback test
 *   networks), and at most maxPeersTotal overall (the oldest peer of the least recently announced swarm goes);
 * - a peer expires peerTtlMs after its last announce (30 min; libtorrent keeps 45, clients re-announce every 15).
 *
 * Deviation from BEP 33 ("<Infohash,IP> tuples must be unique"): peers are keyed by IP and port, like
 * libtorrent, so nodes sharing one address (NAT, loopback tests) do not overwrite each other; the scrape filters
 * hash IPs only, so they still count distinct IPs.
 */
import type { Random, UdpAddress } from '../runtime/index.ts';
import { addressKey } from '../runtime/index.ts';
import { familyOf } from './address-class.ts';
import { ScrapeBloom } from './bloom.ts';
import {
  BEP51_MAX_SAMPLES,
  BEP51_SAMPLE_INTERVAL_SEC,
  PEER_STORE_MAX_INFOHASHES,
  PEER_STORE_MAX_PEERS_PER_INFOHASH,
  PEER_STORE_MAX_PEERS_TOTAL,
  PEER_STORE_MAX_PORTS_PER_IP,
  PEER_TTL_MS,
} from './constants.ts';

interface PeerEntry {
  readonly address: UdpAddress;
  readonly isSeed: boolean;
  readonly addedMs: number;
}

/** Peers of one family in one swarm; Map order is announce order (oldest first), which the expiry relies on. */
type FamilyPeers = Map<string, PeerEntry>;

interface Swarm {
  readonly infoHash: Buffer;
  readonly v4: FamilyPeers;
  readonly v6: FamilyPeers;
}

export type AnnounceResult = 'stored' | 'updated' | 'full';

export interface PeerStoreOptions {
  readonly maxInfoHashes?: number;
  readonly maxPeersPerInfoHash?: number;
  readonly maxPeersTotal?: number;
  readonly maxPortsPerIp?: number;
  readonly peerTtlMs?: number;
  /** Hosts exempt from maxPortsPerIp (the node passes "loopback/private under --allow-private"). */
  readonly isRelaxedHost?: (host: string) => boolean;
  /** BEP 51 interval: how long one sample is served before a new one is drawn. */
  readonly sampleIntervalSec?: number;
}

export class PeerStore {
  readonly #maxInfoHashes: number;
  readonly #maxPeersPerInfoHash: number;
  readonly #maxPeersTotal: number;
  readonly #maxPortsPerIp: number;
  readonly #peerTtlMs: number;
  readonly #isRelaxedHost: (host: string) => boolean;
  readonly #sampleIntervalSec: number;
  /** info-hash hex → swarm, in least recently announced order. */
  readonly #swarms = new Map<string, Swarm>();
  #totalPeers = 0;
  #sample: { infoHashes: Buffer[]; createdMs: number } = {
    infoHashes: [],
    createdMs: Number.NEGATIVE_INFINITY,
  };

  constructor(opts: PeerStoreOptions = {}) {
    this.#maxInfoHashes = Math.max(1, opts.maxInfoHashes ?? PEER_STORE_MAX_INFOHASHES);
    this.#maxPeersPerInfoHash = Math.max(1, opts.maxPeersPerInfoHash ?? PEER_STORE_MAX_PEERS_PER_INFOHASH);
    this.#maxPeersTotal = Math.max(1, opts.maxPeersTotal ?? PEER_STORE_MAX_PEERS_TOTAL);
    this.#maxPortsPerIp = Math.max(1, opts.maxPortsPerIp ?? PEER_STORE_MAX_PORTS_PER_IP);
    this.#peerTtlMs = opts.peerTtlMs ?? PEER_TTL_MS;
    this.#isRelaxedHost = opts.isRelaxedHost ?? (() => false);
    this.#sampleIntervalSec = opts.sampleIntervalSec ?? BEP51_SAMPLE_INTERVAL_SEC;
  }

  /** Records (or refreshes) a peer for an info-hash. */
  announce(infoHash: Buffer, address: UdpAddress, isSeed: boolean, nowMs: number): AnnounceResult {
    const hex = infoHash.toString('hex');
    let swarm = this.#swarms.get(hex);
    if (swarm !== undefined) {
      this.#expireSwarm(hex, swarm, nowMs);
      this.#swarms.delete(hex);
    } else {
      while (this.#swarms.size >= this.#maxInfoHashes) this.#dropSwarm(this.#swarms.keys().next().value);
      swarm = { infoHash: Buffer.from(infoHash), v4: new Map(), v6: new Map() };
    }
    this.#swarms.set(hex, swarm);
    const peers = familyOf(address.host) === 6 ? swarm.v6 : swarm.v4;
    const key = addressKey(address);
    const entry: PeerEntry = { address: { host: address.host, port: address.port }, isSeed, addedMs: nowMs };
    if (peers.delete(key)) {
      peers.set(key, entry);
      return 'updated';
    }
    if (peers.size >= this.#maxPeersPerInfoHash) return this.#keepIfEmpty(hex, swarm);
    if (!this.#isRelaxedHost(address.host) && this.#portsOf(peers, address.host) >= this.#maxPortsPerIp) {
      return this.#keepIfEmpty(hex, swarm);
    }
    while (this.#totalPeers >= this.#maxPeersTotal && this.#dropOldestPeer()) {}
    // Making room may have emptied (and unlisted) this very swarm when it was the only one.
    this.#swarms.set(hex, swarm);
    peers.set(key, entry);
    this.#totalPeers++;
    return 'stored';
  }

  /**
   * Up to maxCount live peers of one family, picked at random (so every stored peer gets handed out); seeds are
   * left out when noSeed is set (BEP 33).
   */
  getPeers(
    infoHash: Buffer,
    family: 4 | 6,
    opts: { maxCount: number; noSeed: boolean; nowMs: number; random: Random },
  ): UdpAddress[] {
    const swarm = this.#liveSwarm(infoHash, opts.nowMs);
    if (swarm === undefined || opts.maxCount <= 0) return [];
    const picked: UdpAddress[] = [];
    let seen = 0;
    // Reservoir sampling: one pass, uniform, bounded by the swarm size.
    for (const entry of (family === 6 ? swarm.v6 : swarm.v4).values()) {
      if (opts.noSeed && entry.isSeed) continue;
      seen++;
      if (picked.length < opts.maxCount) picked.push(entry.address);
      else {
        const slot = opts.random.int(seen);
        if (slot < opts.maxCount) picked[slot] = entry.address;
      }
    }
    return picked;
  }

  /** True when the info-hash has any live peer (either family). */
  has(infoHash: Buffer, nowMs: number): boolean {
    return this.#liveSwarm(infoHash, nowMs) !== undefined;
  }

  /**
   * True when a new announce from this host could not be stored (the family's list is full and the host is not
   * in it yet): get_peers then withholds the token.
   */
  isFullFor(infoHash: Buffer, host: string, nowMs: number): boolean {
    const swarm = this.#liveSwarm(infoHash, nowMs);
    if (swarm === undefined) return false;
    const peers = familyOf(host) === 6 ? swarm.v6 : swarm.v4;
    if (peers.size < this.#maxPeersPerInfoHash) return false;
    return this.#portsOf(peers, host) === 0;
  }

  /** BEP 33 scrape filters of one family's peers, or undefined when we hold nothing for the info-hash. */
  scrape(infoHash: Buffer, family: 4 | 6, nowMs: number): { bfsd: Buffer; bfpe: Buffer } | undefined {
    const swarm = this.#liveSwarm(infoHash, nowMs);
    if (swarm === undefined) return undefined;
    const seeds = new ScrapeBloom();
    const downloaders = new ScrapeBloom();
    for (const entry of (family === 6 ? swarm.v6 : swarm.v4).values()) {
      (entry.isSeed ? seeds : downloaders).insertHost(entry.address.host);
    }
    return { bfsd: seeds.toBuffer(), bfpe: downloaders.toBuffer() };
  }

  /**
   * BEP 51: a random sample of stored info-hashes (at most BEP51_MAX_SAMPLES, the caller trims to what fits),
   * the number of info-hashes held, and the interval in seconds. A sample is reused for `interval` once it is as
   * large as it can be, so an indexer gains nothing by asking again sooner.
   */
  sampleInfoHashes(nowMs: number, random: Random): { samples: Buffer[]; num: number; intervalSec: number } {
    const wanted = Math.min(BEP51_MAX_SAMPLES, this.#swarms.size);
    const isFresh = nowMs - this.#sample.createdMs < this.#sampleIntervalSec * 1000;
    if (!isFresh || this.#sample.infoHashes.length < wanted) {
      const picked: Buffer[] = [];
      let seen = 0;
      for (const swarm of this.#swarms.values()) {
        seen++;
        if (picked.length < wanted) picked.push(swarm.infoHash);
        else {
          const slot = random.int(seen);
          if (slot < wanted) picked[slot] = swarm.infoHash;
        }
      }
      this.#sample = { infoHashes: picked, createdMs: nowMs };
    }
    return { samples: this.#sample.infoHashes, num: this.#swarms.size, intervalSec: this.#sampleIntervalSec };
  }

  /** Drops every expired peer and every emptied swarm (the node calls this from its maintenance tick). */
  purge(nowMs: number): void {
    for (const [hex, swarm] of this.#swarms) this.#expireSwarm(hex, swarm, nowMs);
  }

  get infoHashCount(): number {
    return this.#swarms.size;
  }

  get peerCount(): number {
    return this.#totalPeers;
  }

  #liveSwarm(infoHash: Buffer, nowMs: number): Swarm | undefined {
    const hex = infoHash.toString('hex');
    const swarm = this.#swarms.get(hex);
    if (swarm === undefined) return undefined;
    this.#expireSwarm(hex, swarm, nowMs);
    return this.#swarms.has(hex) ? swarm : undefined;
  }

  #expireSwarm(hex: string, swarm: Swarm, nowMs: number): void {
    for (const peers of [swarm.v4, swarm.v6]) {
      for (const [key, entry] of peers) {
        if (nowMs - entry.addedMs < this.#peerTtlMs) break;
        peers.delete(key);
        this.#totalPeers--;
      }
    }
    if (swarm.v4.size === 0 && swarm.v6.size === 0) this.#swarms.delete(hex);
  }

  /** A refused announce must not leave behind the empty swarm created for it. */
  #keepIfEmpty(hex: string, swarm: Swarm): AnnounceResult {
    if (swarm.v4.size === 0 && swarm.v6.size === 0) this.#swarms.delete(hex);
    return 'full';
  }

  #dropSwarm(hex: string | undefined): void {
    if (hex === undefined) return;
    const swarm = this.#swarms.get(hex);
    if (swarm === undefined) return;
    this.#totalPeers -= swarm.v4.size + swarm.v6.size;
    this.#swarms.delete(hex);
  }

  #dropOldestPeer(): boolean {
    for (const [hex, swarm] of this.#swarms) {
      const peers = swarm.v4.size > 0 ? swarm.v4 : swarm.v6;
      const oldest = peers.keys().next().value;
      if (oldest === undefined) {
        this.#swarms.delete(hex);
        continue;
      }
      peers.delete(oldest);
      this.#totalPeers--;
      if (swarm.v4.size === 0 && swarm.v6.size === 0) this.#swarms.delete(hex);
      return true;
    }
    return false;
  }

  #portsOf(peers: FamilyPeers, host: string): number {
    let count = 0;
    for (const entry of peers.values()) if (entry.address.host === host) count++;
    return count;
  }
}
