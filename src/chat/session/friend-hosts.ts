/**
 * The hosts our friends were last seen at or announced (their last known endpoints and rendezvous candidates),
 * as the uTP listener's trust policy: a connection from one of them uses the reserve strangers cannot touch
 * (net/utp/admission.ts), so a SYN flood from strangers cannot keep a friend out. By host, not host:port, because
 * a friend who restarts usually comes back from the same address on a new port (a new NAT mapping or port).
 *
 * The listener asks on every SYN, so `has` is a set lookup; the set is rebuilt from the store at most every
 * refreshMs (lazily, on a question), so a new friend or endpoint counts within seconds.
 */
import type { Clock, UdpAddress } from '../../runtime/index.ts';

export const FRIEND_HOSTS_REFRESH_MS = 5000;

export class FriendHosts {
  readonly #clock: Clock;
  readonly #listEndpoints: () => Iterable<UdpAddress>;
  readonly #refreshMs: number;
  #hosts = new Set<string>();
  #builtAtMs = Number.NEGATIVE_INFINITY;

  constructor(clock: Clock, listEndpoints: () => Iterable<UdpAddress>, refreshMs = FRIEND_HOSTS_REFRESH_MS) {
    this.#clock = clock;
    this.#listEndpoints = listEndpoints;
    this.#refreshMs = refreshMs;
  }

  has(host: string): boolean {
    const nowMs = this.#clock.monotonicMs();
    if (nowMs - this.#builtAtMs >= this.#refreshMs) {
      this.#builtAtMs = nowMs;
      const hosts = new Set<string>();
      try {
        for (const endpoint of this.#listEndpoints()) hosts.add(endpoint.host);
        this.#hosts = hosts;
      } catch {
        // A store that cannot be read keeps the last set: trust is an optimisation, never a reason to fail.
      }
    }
    return this.#hosts.has(host);
  }
}
