/**
 * Keeps one UDP port of ours mapped on the default gateway, by whichever protocol it speaks.
 *
 *   start() ─► round: PCP → NAT-PMP → UPnP, first success wins ──► mapped ──► renew at lifetime/2 ─┐
 *                │ none                                               ▲   │ ok: renewed, or changed ┘
 *                ▼                                                    │   │ failed: retry at half the time left;
 *              failed: next round after a back-off (2 min doubling     │   │ expired: lost ─► a new round now
 *              to 30 min, ±10 %)                                       └───┘
 *   close() ─► no more rounds; the mapping is deleted (bounded wait; else it expires on its own)
 *
 * Within a round, a protocol whose server port already stayed silent is skipped (PCP and NAT-PMP share 5351 and
 * must answer each other's versions: MappingProtocol.serverPort), so a UPnP-only router costs one ~4 s wait.
 *
 * Sans-I/O in time: every wait is a timer on the injected clock, every exchange goes through a MappingProtocol
 * (which owns its socket), so tests run the whole life on virtual time against a fake gateway. Listeners hear
 * each change as a PortMappingEvent; `external()` is the endpoint to publish while a mapping holds.
 */
import {
  type Clock,
  formatAddress,
  type Logger,
  nullLogger,
  type Random,
  type Timer,
  type UdpAddress,
} from '../../runtime/index.ts';
import { MappingFailureReason, type MappingProtocol, type MappingProtocolName } from './mapping-protocol.ts';

export const PORT_MAPPER_TIMING = {
  /** What we ask for: RFC 6886 §3.3's recommendation; PCP and UPnP gateways grant what they like. */
  requestedLifetimeS: 7200,
  /** The smallest wait before a renewal (a gateway granting a few seconds must not make us spin). */
  minRenewMs: 1000,
  /** The first wait after a round where nothing mapped; doubles up to retryMaxMs. */
  retryFirstMs: 2 * 60_000,
  retryMaxMs: 30 * 60_000,
  /** Jitter on retries, as a fraction (±). */
  retryJitter: 0.1,
  /** How long close() waits for the gateway to confirm the deletion. */
  closeWaitMs: 2000,
};
export type PortMapperTiming = typeof PORT_MAPPER_TIMING;

export interface AttemptResult {
  protocol: MappingProtocolName;
  reason: MappingFailureReason;
  detail?: string;
}

export type PortMappingEvent =
  | { type: 'mapped'; protocol: MappingProtocolName; external: UdpAddress; lifetimeS: number }
  | {
      type: 'renewed';
      protocol: MappingProtocolName;
      external: UdpAddress;
      lifetimeS: number;
      hasGatewayRestarted: boolean;
    }
  | {
      type: 'changed';
      protocol: MappingProtocolName;
      external: UdpAddress;
      previous: UdpAddress;
      lifetimeS: number;
    }
  | { type: 'renewFailed'; protocol: MappingProtocolName; attempt: AttemptResult; retryInMs: number }
  | { type: 'lost'; protocol: MappingProtocolName; external: UdpAddress }
  | { type: 'failed'; attempts: AttemptResult[]; retryInMs: number }
  | { type: 'unmapped'; protocol: MappingProtocolName; external: UdpAddress; isConfirmed: boolean };

export interface PortMapperOptions {
  /** Our chat socket's port: the mapping's internal port. */
  internalPort: number;
  /** In order of preference. */
  protocols: readonly MappingProtocol[];
  clock: Clock;
  random: Random;
  logger?: Logger;
  timing?: Partial<PortMapperTiming>;
}

interface ActiveMapping {
  protocol: MappingProtocol;
  external: UdpAddress;
  lifetimeS: number;
  expiresAtMs: number;
}

export class PortMapper {
  readonly #opts: PortMapperOptions;
  readonly #timing: PortMapperTiming;
  readonly #log: Logger;
  readonly #listeners: Array<(event: PortMappingEvent) => void> = [];
  #active: ActiveMapping | undefined;
  #timer: Timer | undefined;
  #work: Promise<void> = Promise.resolve();
  #nextRetryMs: number;
  #isStarted = false;
  #isClosed = false;

  constructor(opts: PortMapperOptions) {
    this.#opts = opts;
    this.#timing = { ...PORT_MAPPER_TIMING, ...opts.timing };
    this.#log = opts.logger ?? nullLogger;
    this.#nextRetryMs = this.#timing.retryFirstMs;
  }

  onEvent(listener: (event: PortMappingEvent) => void): void {
    this.#listeners.push(listener);
  }

  /** The mapped external endpoint while a mapping holds. */
  external(): UdpAddress | undefined {
    return this.#active?.external;
  }

  /** Which protocol holds the mapping. */
  protocol(): MappingProtocolName | undefined {
    return this.#active?.protocol.name;
  }

  /** Runs the first round now. */
  start(): void {
    if (this.#isStarted || this.#isClosed) return;
    this.#isStarted = true;
    this.#schedule(0, () => this.#round());
  }

  /** Stops every timer and deletes the mapping, waiting at most `closeWaitMs` for the gateway. */
  async close(): Promise<void> {
    if (this.#isClosed) return;
    this.#isClosed = true;
    this.#timer?.cancel();
    const removal = this.#work.then(() => this.#removeActive()).catch((error: unknown) => this.#bug(error));
    await new Promise<void>((resolve) => {
      const timer = this.#opts.clock.setTimer(this.#timing.closeWaitMs, resolve);
      void removal.then(() => {
        timer.cancel();
        resolve();
      });
    });
  }

  #schedule(delayMs: number, step: () => Promise<void>): void {
    this.#timer?.cancel();
    this.#timer = this.#opts.clock.setTimer(delayMs, () => {
      this.#work = this.#work
        .then(() => (this.#isClosed ? undefined : step()))
        .catch((error: unknown) => this.#bug(error));
    });
  }

  /** Each protocol in turn until one maps; else back off. */
  async #round(): Promise<void> {
    const attempts: AttemptResult[] = [];
    const silentPorts = new Set<number>();
    const { internalPort } = this.#opts;
    for (const protocol of this.#opts.protocols) {
      if (silentPorts.has(protocol.serverPort)) {
        const detail = `port ${protocol.serverPort} did not answer`;
        attempts.push({ protocol: protocol.name, reason: MappingFailureReason.noAnswer, detail });
        continue;
      }
      const outcome = await protocol.map({
        internalPort,
        lifetimeS: this.#timing.requestedLifetimeS,
        suggestedExternalPort: internalPort,
      });
      if (this.#isClosed) {
        // close() came during the exchange: a mapping made now is removed by close()'s removal step.
        if (outcome.ok) this.#activate(protocol, outcome.external, outcome.lifetimeS);
        return;
      }
      if (outcome.ok) {
        this.#nextRetryMs = this.#timing.retryFirstMs;
        this.#activate(protocol, outcome.external, outcome.lifetimeS);
        this.#emit({
          type: 'mapped',
          protocol: protocol.name,
          external: outcome.external,
          lifetimeS: outcome.lifetimeS,
        });
        return;
      }
      if (outcome.reason === MappingFailureReason.noAnswer) silentPorts.add(protocol.serverPort);
      attempts.push({
        protocol: protocol.name,
        reason: outcome.reason,
        ...(outcome.detail === undefined ? {} : { detail: outcome.detail }),
      });
    }
    const retryInMs = this.#jittered(this.#nextRetryMs);
    this.#nextRetryMs = Math.min(this.#nextRetryMs * 2, this.#timing.retryMaxMs);
    this.#emit({ type: 'failed', attempts, retryInMs });
    this.#schedule(retryInMs, () => this.#round());
  }

  async #renew(): Promise<void> {
    const active = this.#active;
    if (active === undefined) return;
    const { protocol } = active;
    const outcome = await protocol.map({
      internalPort: this.#opts.internalPort,
      lifetimeS: this.#timing.requestedLifetimeS,
      suggestedExternalPort: active.external.port,
    });
    if (this.#isClosed) return;
    const now = this.#opts.clock.monotonicMs();
    if (outcome.ok) {
      const previous = active.external;
      this.#activate(protocol, outcome.external, outcome.lifetimeS);
      const isSame = formatAddress(previous) === formatAddress(outcome.external);
      this.#emit(
        isSame
          ? {
              type: 'renewed',
              protocol: protocol.name,
              external: outcome.external,
              lifetimeS: outcome.lifetimeS,
              hasGatewayRestarted: outcome.hasGatewayRestarted,
            }
          : {
              type: 'changed',
              protocol: protocol.name,
              external: outcome.external,
              previous,
              lifetimeS: outcome.lifetimeS,
            },
      );
      return;
    }
    const leftMs = active.expiresAtMs - now;
    if (leftMs > 2 * this.#timing.minRenewMs) {
      // RFC 6886 §3.7 / RFC 6887 §11.2.1: keep trying before the mapping runs out.
      const retryInMs = Math.floor(leftMs / 2);
      const attempt: AttemptResult = {
        protocol: protocol.name,
        reason: outcome.reason,
        ...(outcome.detail === undefined ? {} : { detail: outcome.detail }),
      };
      this.#emit({ type: 'renewFailed', protocol: protocol.name, attempt, retryInMs });
      this.#schedule(retryInMs, () => this.#renew());
      return;
    }
    this.#active = undefined;
    this.#emit({ type: 'lost', protocol: protocol.name, external: active.external });
    await this.#round();
  }

  #activate(protocol: MappingProtocol, external: UdpAddress, lifetimeS: number): void {
    const lifetimeMs = lifetimeS * 1000;
    this.#active = {
      protocol,
      external,
      lifetimeS,
      expiresAtMs: this.#opts.clock.monotonicMs() + lifetimeMs,
    };
    if (!this.#isClosed)
      this.#schedule(Math.max(this.#timing.minRenewMs, lifetimeMs / 2), () => this.#renew());
  }

  async #removeActive(): Promise<void> {
    const active = this.#active;
    if (active === undefined) return;
    this.#active = undefined;
    const isConfirmed = await active.protocol.unmap({
      internalPort: this.#opts.internalPort,
      externalPort: active.external.port,
    });
    this.#emit({ type: 'unmapped', protocol: active.protocol.name, external: active.external, isConfirmed });
  }

  /** A protocol must answer with values; an exception here is a bug, logged rather than left to stop the mapper. */
  #bug(error: unknown): void {
    this.#log.error({ error: String(error) }, 'port mapping step failed');
  }

  #jittered(ms: number): number {
    const spread = Math.floor(ms * this.#timing.retryJitter);
    return ms - spread + this.#opts.random.int(2 * spread + 1);
  }

  #emit(event: PortMappingEvent): void {
    for (const listener of this.#listeners) {
      try {
        listener(event);
      } catch (error) {
        this.#log.warn({ event: event.type, error: String(error) }, 'port mapping listener failed');
      }
    }
  }
}
