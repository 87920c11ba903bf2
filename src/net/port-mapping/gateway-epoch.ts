/**
 * Has the gateway restarted (and so forgotten our mapping) since its last answer? PCP and NAT-PMP answers carry
 * the server's "epoch time", seconds since its state began; RFC 6887 §8.5 (which refines RFC 6886 §3.6) says
 * state was lost when that clock ran backwards by more than a second, or when it and ours disagree on the time
 * elapsed between two answers by more than 2 s plus 1/16 of it.
 */
export class GatewayEpoch {
  #last: { epochS: number; atMs: number } | undefined;

  /** Records an answer's epoch; true when it shows the gateway lost its state since the last one. */
  note(epochS: number, nowMs: number): boolean {
    const last = this.#last;
    this.#last = { epochS, atMs: nowMs };
    if (last === undefined) return false;
    if (epochS + 1 < last.epochS) return true;
    const clientDeltaS = (nowMs - last.atMs) / 1000;
    const serverDeltaS = epochS - last.epochS;
    return (
      clientDeltaS + 2 < serverDeltaS - serverDeltaS / 16 ||
      serverDeltaS + 2 < clientDeltaS - clientDeltaS / 16
    );
  }
}
