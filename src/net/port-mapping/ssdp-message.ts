/**
 * SSDP (UPnP Device Architecture 1.1 §1.3, "Discovery"): the M-SEARCH we multicast to find the gateway's
 * Internet Gateway Device, and the strict, bounded reader of its answer — an HTTP-over-UDP 200 response whose
 * LOCATION header names the device description. It never throws.
 *
 *   M-SEARCH * HTTP/1.1                     HTTP/1.1 200 OK
 *   HOST: 239.255.255.250:1900              ST: urn:schemas-upnp-org:device:InternetGatewayDevice:1
 *   MAN: "ssdp:discover"                    LOCATION: http://192.168.1.1:5000/rootDesc.xml
 *   MX: 1                                   USN: uuid:…::urn:schemas-upnp-org:device:InternetGatewayDevice:1
 *   ST: urn:…:InternetGatewayDevice:1       (CACHE-CONTROL, EXT, SERVER, …)
 */

export const SSDP_MULTICAST_HOST = '239.255.255.250';
export const SSDP_PORT = 1900;
/**
 * IGD v1's device type: an IGD v2 device answers it too (UDA §1.3.2: a device answers searches for any version
 * up to its own), so one search finds both.
 */
export const IGD_DEVICE_TYPE = 'urn:schemas-upnp-org:device:InternetGatewayDevice:1';
/** MX, the longest a device may wait before answering (UDA: 1 to 5 s). */
export const SSDP_MX_S = 1;

const MAX_RESPONSE_BYTES = 2048;
const MAX_HEADERS = 32;
const MAX_LOCATION_CHARS = 512;

export function encodeMSearch(searchTarget: string = IGD_DEVICE_TYPE, mxS: number = SSDP_MX_S): Buffer {
  return Buffer.from(
    'M-SEARCH * HTTP/1.1\r\n' +
      `HOST: ${SSDP_MULTICAST_HOST}:${SSDP_PORT}\r\n` +
      'MAN: "ssdp:discover"\r\n' +
      `MX: ${mxS}\r\n` +
      `ST: ${searchTarget}\r\n` +
      '\r\n',
    'latin1',
  );
}

export interface SearchResponse {
  location: string;
  searchTarget: string | undefined;
}

export const SsdpDecodeError = {
  size: 'SSDP_BAD_SIZE',
  status: 'SSDP_NOT_OK',
  header: 'SSDP_BAD_HEADER',
  location: 'SSDP_NO_LOCATION',
} as const;
export type SsdpDecodeError = (typeof SsdpDecodeError)[keyof typeof SsdpDecodeError];

export type SsdpDecodeResult = { ok: true; response: SearchResponse } | { ok: false; code: SsdpDecodeError };

export function decodeSearchResponse(bytes: Uint8Array): SsdpDecodeResult {
  if (bytes.length === 0 || bytes.length > MAX_RESPONSE_BYTES)
    return { ok: false, code: SsdpDecodeError.size };
  const lines = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString('latin1').split(/\r?\n/);
  if (!/^HTTP\/1\.[01] 200(?: |$)/i.test(lines[0] ?? '')) return { ok: false, code: SsdpDecodeError.status };
  const headers = new Map<string, string>();
  let count = 0;
  for (const line of lines.slice(1)) {
    if (line === '') break;
    const colon = line.indexOf(':');
    if (colon <= 0 || ++count > MAX_HEADERS) return { ok: false, code: SsdpDecodeError.header };
    const name = line.slice(0, colon).trim().toUpperCase();
    if (!/^[A-Z0-9.-]+$/.test(name) || headers.has(name)) return { ok: false, code: SsdpDecodeError.header };
    headers.set(name, line.slice(colon + 1).trim());
  }
  const location = headers.get('LOCATION');
  if (location === undefined || location === '' || location.length > MAX_LOCATION_CHARS) {
    return { ok: false, code: SsdpDecodeError.location };
  }
  return { ok: true, response: { location, searchTarget: headers.get('ST') } };
}
