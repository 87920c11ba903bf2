/**
 * A PCP client (RFC 6887) for one UDP mapping: MAP to create and renew it (same nonce: §11.2), MAP with
 * lifetime 0 to delete it (§15). Answers count only from the gateway's PCP port, only with our nonce, protocol
 * and internal port (§11.3 "the client MUST ... match"), so another host on the LAN cannot feed us a mapping.
 *
 * Deviation, chosen so PCP can fail fast and let NAT-PMP or UPnP try: the request is resent on our short
 * schedule (250 ms doubling, 4 sends, ~4 s) rather than §8.1.1's unbounded one (IRT 3 s); the PortMapper retries
 * the whole ladder later. A restarted gateway is recognised by its epoch (§8.5, gateway-epoch.ts); the renewal
 * that notices it has already re-created our one mapping.
 */
import type { Clock, Random } from '../../runtime/index.ts';
import {
  grantedMapping,
  type MapOutcome,
  MappingFailureReason,
  type MappingProtocol,
  MappingProtocolName,
  type MapRequest,
} from './mapping-protocol.ts';
import {
  decodePcpResponse,
  encodeMapRequest,
  IANA_PROTOCOL_UDP,
  PCP_NONCE_BYTES,
  PCP_SERVER_PORT,
  type PcpResponse,
  PcpResultCode,
} from './pcp-codec.ts';
import { GatewayEpoch } from './gateway-epoch.ts';
import type { UdpExchange } from './udp-exchange.ts';

/** Waits after each send: 4 sends over ~4 s. */
export const PCP_WAITS_MS: readonly number[] = [250, 500, 1000, 2000];

export interface PcpClientOptions {
  exchange: UdpExchange;
  /** To tell a restarted gateway from one whose epoch merely moved on (RFC 6887 §8.5). */
  clock: Clock;
  /** The default gateway: the only host we ask and the only one we believe. */
  gateway: string;
  /** Our address on the gateway's network (the request's source address, which the server checks: §8.1). */
  clientHost: string;
  random: Random;
  waitsMs?: readonly number[];
}

export class PcpClient implements MappingProtocol {
  readonly name = MappingProtocolName.pcp;
  readonly serverPort = PCP_SERVER_PORT;
  readonly #opts: PcpClientOptions;
  /** One nonce for the mapping's whole life: renewals and the delete must repeat it. */
  readonly #nonce: Buffer;
  readonly #epoch = new GatewayEpoch();

  constructor(opts: PcpClientOptions) {
    this.#opts = opts;
    this.#nonce = opts.random.bytes(PCP_NONCE_BYTES);
  }

  async map(request: MapRequest): Promise<MapOutcome> {
    const answer = await this.#ask(request.internalPort, request.suggestedExternalPort, request.lifetimeS);
    if (answer === undefined) return { ok: false, reason: MappingFailureReason.noAnswer };
    if (answer.kind === 'unsupportedVersion') {
      return {
        ok: false,
        reason: MappingFailureReason.unsupported,
        detail: `the gateway speaks version ${answer.serverVersion}`,
      };
    }
    const hasGatewayRestarted = this.#noteEpoch(answer.epochS);
    if (answer.resultCode !== PcpResultCode.success || answer.kind !== 'map') {
      return { ok: false, reason: MappingFailureReason.refused, detail: resultName(answer.resultCode) };
    }
    return grantedMapping(answer, hasGatewayRestarted);
  }

  async unmap(mapping: { internalPort: number }): Promise<boolean> {
    const answer = await this.#ask(mapping.internalPort, 0, 0);
    return answer?.kind === 'map' && answer.resultCode === PcpResultCode.success;
  }

  #ask(
    internalPort: number,
    suggestedExternalPort: number,
    lifetimeS: number,
  ): Promise<PcpResponse | undefined> {
    const { exchange, gateway, clientHost } = this.#opts;
    const bytes = encodeMapRequest({
      clientHost,
      nonce: this.#nonce,
      internalPort,
      suggestedExternalPort,
      lifetimeS,
    });
    if (bytes === undefined) return Promise.resolve(undefined);
    return exchange.run({
      to: { host: gateway, port: PCP_SERVER_PORT },
      bytes,
      waitsMs: this.#opts.waitsMs ?? PCP_WAITS_MS,
      accept: (packet, from) => {
        if (from.host !== gateway || from.port !== PCP_SERVER_PORT) return undefined;
        const decoded = decodePcpResponse(packet);
        if (!decoded.ok) return undefined;
        const response = decoded.response;
        if (response.kind !== 'map') return response;
        const isOurs =
          response.nonce.equals(this.#nonce) &&
          response.protocol === IANA_PROTOCOL_UDP &&
          response.internalPort === internalPort;
        return isOurs ? response : undefined;
      },
    });
  }

  #noteEpoch(epochS: number): boolean {
    return this.#epoch.note(epochS, this.#opts.clock.monotonicMs());
  }
}

function resultName(code: number): string {
  const name = Object.entries(PcpResultCode).find(([, value]) => value === code)?.[0];
  return `result ${code}${name === undefined ? '' : ` (${name})`}`;
}
