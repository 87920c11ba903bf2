/**
 * What the node derives from a host string (family, class, BEP 42 exemption), cached. Every packet needs it
 * several times (rate-limit key, table family, acceptability, compliance, the send path), and parsing the text
 * each time was the largest cost of answering a query. These are pure functions of the text, so an entry never
 * goes stale; the cache is bounded and emptied when full (a flood of distinct sources costs only the parse).
 * For the same reason one cache serves every node of the process (sharedHostInfo): a simulation of 10,000 nodes
 * held 10,000 copies of the same answers, each emptied whenever its node had seen 4,096 hosts.
 */
import { classifyHost, familyOf, type HostClass } from './address-class.ts';

const MAX_CACHED_HOSTS = 16_384;

export interface HostInfo {
  readonly family: 4 | 6;
  readonly cls: HostClass;
  /** BEP 42 §Enforcement: private, loopback and link-local hosts are exempt (bep42.ts isBep42Exempt). */
  readonly isExempt: boolean;
}

export class HostInfoCache {
  readonly #hosts = new Map<string, HostInfo>();

  get(host: string): HostInfo {
    let info = this.#hosts.get(host);
    if (info === undefined) {
      const cls = classifyHost(host);
      info = {
        family: familyOf(host),
        cls,
        isExempt: cls === 'private' || cls === 'loopback' || cls === 'link-local',
      };
      if (this.#hosts.size >= MAX_CACHED_HOSTS) this.#hosts.clear();
      this.#hosts.set(host, info);
    }
    return info;
  }
}

/** The process's one cache (every DhtNode of the process uses it; the answers do not depend on the node). */
export const sharedHostInfo = new HostInfoCache();
