/**
 * What the node derives from a host string (family, class, BEP 42 exemption), cached. Every packet needs it
 * several times (rate-limit key, table family, acceptability, compliance, the send path), and parsing the text
 * each time was the largest cost of answering a query. These are pure functions of the text, so an entry never
 * goes stale; the cache is bounded and emptied when full (a flood of distinct sources costs only the parse).
 */
import { classifyHost, familyOf, type HostClass } from './address-class.ts';

const MAX_CACHED_HOSTS = 4_096;

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
