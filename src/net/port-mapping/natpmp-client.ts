/**
 * A NAT-PMP client (RFC 6886) for one UDP mapping: the external address (§3.2, as the map response does not
 * carry it), then the map request (§3.3), which also renews; lifetime 0 with external port 0 deletes (§3.4).
 * Answers count only from the gateway's port 5351 (§3.1: "MUST check the source IP address"), only for the
 * opcode asked and, for a mapping, our internal port.
 *
 * Deviation: §3.1 resends up to 9 times (250 ms doubling, 64 s); we stop after 4 (~4 s) so UPnP can be tried,
 * and retry the whole ladder later with back-off (PortMapper). A restarted gateway is recognised by its epoch
 * (§3.6, gateway-epoch.ts).
 */
import type { Clock } from '../../runtime/index.ts';
import {
  grantedMapping,
  type MapOutcome,
  MappingFailureReason,
  type MappingProtocol,
  MappingProtocolName,
  type MapRequest,
} from './mapping-protocol.ts';
import {
  decodeNatPmpResponse,
  encodeExternalAddressRequest,
  encodeMapRequest,
  NATPMP_SERVER_PORT,
  type NatPmpOpcodeName,
  type NatPmpResponse,
  NatPmpResultCode,
} from './natpmp-codec.ts';
import { GatewayEpoch } from './gateway-epoch.ts';
import type { UdpExchange } from './udp-exchange.ts';

/** Waits after each send: 4 sends over ~4 s (RFC 6886 §3.1's schedule, cut short). */
export const NATPMP_WAITS_MS: readonly number[] = [250, 500, 1000, 2000];

export interface NatPmpClientOptions {
  exchange: UdpExchange;
  /** To tell a restarted gateway from one whose epoch merely moved on (RFC 6887 §8.5). */
  clock: Clock;
  /** The default gateway: the only host we ask and the only one we believe. */
  gateway: string;
  waitsMs?: readonly number[];
}

export class NatPmpClient implements MappingProtocol {
  readonly name = MappingProtocolName.natpmp;
  readonly serverPort = NATPMP_SERVER_PORT;
  readonly #opts: NatPmpClientOptions;
  readonly #epoch = new GatewayEpoch();

  constructor(opts: NatPmpClientOptions) {
    this.#opts = opts;
  }

  async map(request: MapRequest): Promise<MapOutcome> {
    const address = await this.#ask(encodeExternalAddressRequest(), 'externalAddress', undefined);
    if (address === undefined) return { ok: false, reason: MappingFailureReason.noAnswer };
    if (address.kind === 'error') return refusal(address.resultCode);
    if (address.kind !== 'externalAddress') return { ok: false, reason: MappingFailureReason.badAnswer };
    let hasGatewayRestarted = this.#noteEpoch(address.epochS);
    const mapping = await this.#ask(
      encodeMapRequest({
        internalPort: request.internalPort,
        suggestedExternalPort: request.suggestedExternalPort,
        lifetimeS: request.lifetimeS,
      }),
      'mapUdp',
      request.internalPort,
    );
    if (mapping === undefined) return { ok: false, reason: MappingFailureReason.noAnswer };
    if (mapping.kind === 'error') return refusal(mapping.resultCode);
    if (mapping.kind !== 'mapping') return { ok: false, reason: MappingFailureReason.badAnswer };
    hasGatewayRestarted = this.#noteEpoch(mapping.epochS) || hasGatewayRestarted;
    return grantedMapping(
      {
        externalHost: address.externalHost,
        externalPort: mapping.externalPort,
        lifetimeS: mapping.lifetimeS,
      },
      hasGatewayRestarted,
    );
  }

  async unmap(mapping: { internalPort: number }): Promise<boolean> {
    const bytes = encodeMapRequest({
      internalPort: mapping.internalPort,
      suggestedExternalPort: 0,
      lifetimeS: 0,
    });
    const answer = await this.#ask(bytes, 'mapUdp', mapping.internalPort);
    return answer?.kind === 'mapping';
  }

  #ask(
    bytes: Buffer,
    opcode: NatPmpOpcodeName,
    internalPort: number | undefined,
  ): Promise<NatPmpResponse | undefined> {
    const { exchange, gateway } = this.#opts;
    return exchange.run({
      to: { host: gateway, port: NATPMP_SERVER_PORT },
      bytes,
      waitsMs: this.#opts.waitsMs ?? NATPMP_WAITS_MS,
      accept: (packet, from) => {
        if (from.host !== gateway || from.port !== NATPMP_SERVER_PORT) return undefined;
        const decoded = decodeNatPmpResponse(packet);
        if (!decoded.ok) return undefined;
        const response = decoded.response;
        const answers =
          response.kind === 'error'
            ? response.opcode
            : response.kind === 'externalAddress'
              ? 'externalAddress'
              : 'mapUdp';
        if (answers !== opcode) return undefined;
        if (response.kind === 'mapping' && response.internalPort !== internalPort) return undefined;
        return response;
      },
    });
  }

  #noteEpoch(epochS: number): boolean {
    return this.#epoch.note(epochS, this.#opts.clock.monotonicMs());
  }
}

function refusal(resultCode: number): MapOutcome {
  const name = Object.entries(NatPmpResultCode).find(([, value]) => value === resultCode)?.[0];
  const detail = `result ${resultCode}${name === undefined ? '' : ` (${name})`}`;
  return resultCode === NatPmpResultCode.unsupportedVersion
    ? { ok: false, reason: MappingFailureReason.unsupported, detail }
    : { ok: false, reason: MappingFailureReason.refused, detail };
}
