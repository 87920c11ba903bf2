/**
 * Reading an Internet Gateway Device's description (UPnP IGD v1/v2; the XML at SSDP's LOCATION): which WAN
 * connection service it offers and where its control URL is. Only a control URL on the gateway itself, over plain
 * HTTP, is usable: a description naming another host would turn us into its messenger (we only ever talk to
 * the default gateway).
 *
 *   <root><URLBase>?</URLBase><device>…<deviceList><device>…<serviceList>
 *     <service><serviceType>urn:schemas-upnp-org:service:WANIPConnection:1</serviceType>
 *              <controlURL>/ctl/IPConn</controlURL></service> …
 */
import { childText, descendantsNamed, parseXml } from './xml-elements.ts';

/** The WAN connection services that map ports, best first (v2 has AddAnyPortMapping). */
export const WAN_CONNECTION_SERVICE_TYPES: readonly string[] = [
  'urn:schemas-upnp-org:service:WANIPConnection:2',
  'urn:schemas-upnp-org:service:WANIPConnection:1',
  'urn:schemas-upnp-org:service:WANPPPConnection:1',
];

export interface WanConnectionService {
  serviceType: string;
  controlUrl: URL;
  /** WANIPConnection:2 offers AddAnyPortMapping. */
  isVersion2: boolean;
}

export type DescriptionResult =
  | { ok: true; service: WanConnectionService }
  | { ok: false; reason: 'malformed' | 'no-wan-connection' | 'foreign-control-url'; detail?: string };

export function findWanConnectionService(xml: string, descriptionUrl: URL): DescriptionResult {
  const parsed = parseXml(xml);
  if (!parsed.ok) return { ok: false, reason: 'malformed', detail: `${parsed.code} at ${parsed.offset}` };
  const services = descendantsNamed(parsed.root, 'service');
  for (const serviceType of WAN_CONNECTION_SERVICE_TYPES) {
    const service = services.find((s) => childText(s, 'serviceType') === serviceType);
    if (service === undefined) continue;
    const control = childText(service, 'controlURL');
    if (control === undefined || control === '') continue;
    const base = childText(parsed.root, 'URLBase');
    const controlUrl = resolveOnGateway(control, base, descriptionUrl);
    if (controlUrl === undefined) return { ok: false, reason: 'foreign-control-url', detail: control };
    return { ok: true, service: { serviceType, controlUrl, isVersion2: serviceType.endsWith(':2') } };
  }
  return { ok: false, reason: 'no-wan-connection' };
}

/** The control URL made absolute, if it stays on the description's host, over http. */
function resolveOnGateway(control: string, base: string | undefined, descriptionUrl: URL): URL | undefined {
  try {
    const baseUrl = base === undefined || base === '' ? descriptionUrl : new URL(base, descriptionUrl);
    const url = new URL(control, baseUrl);
    return url.protocol === 'http:' && url.hostname === descriptionUrl.hostname ? url : undefined;
  } catch {
    return undefined;
  }
}
