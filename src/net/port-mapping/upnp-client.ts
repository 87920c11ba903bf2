/**
 * A UPnP IGD control point for one UDP mapping (IGD v1 and v2; WANIPConnection or WANPPPConnection):
 *   1. SSDP: multicast an M-SEARCH for the IGD and take the first answer from the default gateway whose
 *      LOCATION is on the gateway itself (answers from other LAN hosts are ignored: we only ask the gateway);
 *   2. GET the description, find the WAN connection service and its control URL (on the gateway, http only);
 *   3. SOAP GetExternalIPAddress, then AddAnyPortMapping (v2, the gateway picks a free port near ours) or
 *      AddPortMapping (v1: on 718 ConflictInMappingEntry another random port, at most twice; on 725
 *      OnlyPermanentLeasesSupported a lease of 0, which we still renew and always delete on close);
 *   4. DeletePortMapping on close.
 * The service found is kept and reused for renewals; any HTTP failure forgets it, so the next attempt discovers
 * again (a rebooted gateway may move its HTTP port).
 */
import type { Random } from '../../runtime/index.ts';
import { ipv4ToBytes } from '../../wire/index.ts';
import type { HttpRequester } from './http-requester.ts';
import { findWanConnectionService, type WanConnectionService } from './igd-description.ts';
import { decodeSoapResponse, encodeSoapAction, UpnpErrorCode } from './igd-soap.ts';
import {
  type MapOutcome,
  MappingFailureReason,
  type MappingProtocol,
  MappingProtocolName,
  type MapRequest,
} from './mapping-protocol.ts';
import { isReachableExternalHost } from './nat-address.ts';
import { decodeSearchResponse, encodeMSearch, SSDP_MULTICAST_HOST, SSDP_PORT } from './ssdp-message.ts';
import type { UdpExchange } from './udp-exchange.ts';

/** Waits after each M-SEARCH: 2 sends, giving up 2.5 s after the first (MX is 1 s). */
export const SSDP_WAITS_MS: readonly number[] = [1000, 1500];
const DESCRIPTION_MAX_BYTES = 65_536;
const SOAP_MAX_BYTES = 16_384;
const HTTP_TIMEOUT_MS = 3000;
const MAPPING_DESCRIPTION = 'dhtchat';
/** AddPortMapping conflicts (718) tolerated before giving up, each followed by a random port. */
const MAX_CONFLICTS = 2;
const LOWEST_RANDOM_PORT = 1024;

export interface UpnpClientOptions {
  exchange: UdpExchange;
  /** The default gateway: the only host whose SSDP answer we take. */
  gateway: string;
  /** Our address on the gateway's network, where the mapping points (NewInternalClient). */
  internalHost: string;
  http: HttpRequester;
  random: Random;
  searchWaitsMs?: readonly number[];
}

type ActionResult =
  | { ok: true; values: ReadonlyMap<string, string> }
  | { ok: false; failure: MapOutcome & { ok: false }; upnpErrorCode?: number };

export class UpnpClient implements MappingProtocol {
  readonly name = MappingProtocolName.upnp;
  readonly serverPort = SSDP_PORT;
  readonly #opts: UpnpClientOptions;
  #service: WanConnectionService | undefined;
  #isPermanentOnly = false;

  constructor(opts: UpnpClientOptions) {
    this.#opts = opts;
  }

  async map(request: MapRequest): Promise<MapOutcome> {
    const found = await this.#findService();
    if (!found.ok) return found;
    const service = found.service;
    const address = await this.#action(service, 'GetExternalIPAddress', []);
    if (!address.ok) return address.failure;
    const externalHost = address.values.get('NewExternalIPAddress') ?? '';
    if (ipv4ToBytes(externalHost) === undefined) {
      return {
        ok: false,
        reason: MappingFailureReason.badAnswer,
        detail: `external address "${externalHost}"`,
      };
    }
    if (!isReachableExternalHost(externalHost)) {
      return { ok: false, reason: MappingFailureReason.notReachable, detail: externalHost };
    }
    const port = await this.#addMapping(service, request);
    if (typeof port !== 'number') return port;
    return {
      ok: true,
      external: { host: externalHost, port },
      lifetimeS: request.lifetimeS,
      hasGatewayRestarted: false,
    };
  }

  async unmap(mapping: { externalPort: number }): Promise<boolean> {
    const service = this.#service;
    if (service === undefined) return false;
    const result = await this.#action(service, 'DeletePortMapping', [
      ['NewRemoteHost', ''],
      ['NewExternalPort', mapping.externalPort],
      ['NewProtocol', 'UDP'],
    ]);
    return result.ok;
  }

  /** The external port granted, or why not. */
  async #addMapping(service: WanConnectionService, request: MapRequest): Promise<number | MapOutcome> {
    const args = (externalPort: number): Array<[string, string | number]> => [
      ['NewRemoteHost', ''],
      ['NewExternalPort', externalPort],
      ['NewProtocol', 'UDP'],
      ['NewInternalPort', request.internalPort],
      ['NewInternalClient', this.#opts.internalHost],
      ['NewEnabled', 1],
      ['NewPortMappingDescription', MAPPING_DESCRIPTION],
      ['NewLeaseDuration', this.#isPermanentOnly ? 0 : request.lifetimeS],
    ];
    if (service.isVersion2) {
      const result = await this.#action(service, 'AddAnyPortMapping', args(request.suggestedExternalPort));
      if (!result.ok) return result.failure;
      const reserved = Number(result.values.get('NewReservedPort'));
      return Number.isInteger(reserved) && reserved > 0 && reserved < 65536
        ? reserved
        : { ok: false, reason: MappingFailureReason.badAnswer, detail: 'no NewReservedPort' };
    }
    let externalPort = request.suggestedExternalPort;
    let conflicts = 0;
    for (;;) {
      const result = await this.#action(service, 'AddPortMapping', args(externalPort));
      if (result.ok) return externalPort;
      if (result.upnpErrorCode === UpnpErrorCode.onlyPermanentLeasesSupported && !this.#isPermanentOnly) {
        this.#isPermanentOnly = true;
        continue;
      }
      if (result.upnpErrorCode !== UpnpErrorCode.conflictInMappingEntry || ++conflicts > MAX_CONFLICTS) {
        return result.failure;
      }
      externalPort = LOWEST_RANDOM_PORT + this.#opts.random.int(65536 - LOWEST_RANDOM_PORT);
    }
  }

  async #findService(): Promise<{ ok: true; service: WanConnectionService } | (MapOutcome & { ok: false })> {
    if (this.#service !== undefined) return { ok: true, service: this.#service };
    const { exchange, gateway, http } = this.#opts;
    const location = await exchange.run({
      to: { host: SSDP_MULTICAST_HOST, port: SSDP_PORT },
      bytes: encodeMSearch(),
      waitsMs: this.#opts.searchWaitsMs ?? SSDP_WAITS_MS,
      accept: (packet, from) => {
        if (from.host !== gateway) return undefined;
        const decoded = decodeSearchResponse(packet);
        if (!decoded.ok) return undefined;
        const url = parseUrl(decoded.response.location);
        return url !== undefined && url.protocol === 'http:' && url.hostname === gateway ? url : undefined;
      },
    });
    if (location === undefined) {
      return { ok: false, reason: MappingFailureReason.noAnswer, detail: 'no IGD answered the search' };
    }
    const description = await http({
      method: 'GET',
      url: location,
      headers: {},
      maxResponseBytes: DESCRIPTION_MAX_BYTES,
      timeoutMs: HTTP_TIMEOUT_MS,
    });
    if (!description.ok || description.status !== 200) {
      const detail = description.ok ? `description: HTTP ${description.status}` : description.reason;
      return { ok: false, reason: MappingFailureReason.noAnswer, detail };
    }
    const found = findWanConnectionService(description.body, location);
    if (!found.ok) {
      const reason =
        found.reason === 'no-wan-connection'
          ? MappingFailureReason.unsupported
          : MappingFailureReason.badAnswer;
      return { ok: false, reason, detail: `description: ${found.reason}` };
    }
    this.#service = found.service;
    return found;
  }

  async #action(
    service: WanConnectionService,
    action: string,
    args: ReadonlyArray<readonly [string, string | number]>,
  ): Promise<ActionResult> {
    const soap = encodeSoapAction(service.serviceType, action, args);
    const answer = await this.#opts.http({
      method: 'POST',
      url: service.controlUrl,
      headers: soap.headers,
      body: soap.body,
      maxResponseBytes: SOAP_MAX_BYTES,
      timeoutMs: HTTP_TIMEOUT_MS,
    });
    if (!answer.ok) {
      this.#service = undefined;
      return {
        ok: false,
        failure: { ok: false, reason: MappingFailureReason.noAnswer, detail: answer.reason },
      };
    }
    const decoded = decodeSoapResponse(answer.status, answer.body, action);
    if (decoded.ok) return decoded;
    return {
      ok: false,
      failure: { ok: false, reason: MappingFailureReason.refused, detail: `${action}: ${decoded.detail}` },
      ...(decoded.upnpErrorCode === undefined ? {} : { upnpErrorCode: decoded.upnpErrorCode }),
    };
  }
}

function parseUrl(text: string): URL | undefined {
  try {
    return new URL(text);
  } catch {
    return undefined;
  }
}
