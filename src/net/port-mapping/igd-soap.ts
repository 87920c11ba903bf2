/**
 * SOAP as an IGD control point speaks it (UPnP Device Architecture 1.1 §3.1): an action is a POST of an envelope
 * naming the action and its arguments; the answer is `<ActionResponse>` with the out-arguments, or HTTP 500 with
 * a fault whose `UPnPError/errorCode` says why (IGD's codes: 718 ConflictInMappingEntry, 725
 * OnlyPermanentLeasesSupported, …). Arguments are escaped; answers are read with the strict XML reader.
 */
import { childText, descendantsNamed, parseXml } from './xml-elements.ts';

/** The UPnP error codes the client acts on (WANIPConnection v1 §2.4, v2 §2.5). */
export const UpnpErrorCode = {
  conflictInMappingEntry: 718,
  onlyPermanentLeasesSupported: 725,
} as const;

export interface SoapRequest {
  body: string;
  headers: Record<string, string>;
}

export function encodeSoapAction(
  serviceType: string,
  action: string,
  args: ReadonlyArray<readonly [string, string | number]>,
): SoapRequest {
  const argumentXml = args.map(([name, value]) => `<${name}>${escapeXml(String(value))}</${name}>`).join('');
  const body =
    '<?xml version="1.0"?>\r\n' +
    '<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/" ' +
    's:encodingStyle="http://schemas.xmlsoap.org/soap/encoding/"><s:Body>' +
    `<u:${action} xmlns:u="${serviceType}">${argumentXml}</u:${action}>` +
    '</s:Body></s:Envelope>\r\n';
  return {
    body,
    headers: {
      'Content-Type': 'text/xml; charset="utf-8"',
      SOAPAction: `"${serviceType}#${action}"`,
    },
  };
}

export type SoapResult =
  | { ok: true; values: ReadonlyMap<string, string> }
  | { ok: false; upnpErrorCode: number | undefined; detail: string };

/** Reads an action's answer: its out-arguments by name, or why it failed. */
export function decodeSoapResponse(status: number, body: string, action: string): SoapResult {
  const parsed = parseXml(body);
  if (!parsed.ok) return { ok: false, upnpErrorCode: undefined, detail: `HTTP ${status}, ${parsed.code}` };
  const fault = descendantsNamed(parsed.root, 'UPnPError')[0];
  if (status !== 200 || fault !== undefined) {
    const text = fault === undefined ? undefined : childText(fault, 'errorCode');
    const code = text !== undefined && /^[0-9]{1,4}$/.test(text) ? Number(text) : undefined;
    const description = fault === undefined ? '' : ` ${childText(fault, 'errorDescription') ?? ''}`;
    return {
      ok: false,
      upnpErrorCode: code,
      detail: `HTTP ${status}, UPnP error ${code ?? '?'}${description}`,
    };
  }
  const response = descendantsNamed(parsed.root, `${action}Response`)[0];
  if (response === undefined) return { ok: false, upnpErrorCode: undefined, detail: `no ${action}Response` };
  const values = new Map<string, string>();
  for (const child of response.children) values.set(child.name, child.text.trim());
  return { ok: true, values };
}

function escapeXml(text: string): string {
  return text.replace(/[<>&"']/g, (c) =>
    c === '<' ? '&lt;' : c === '>' ? '&gt;' : c === '&' ? '&amp;' : c === '"' ? '&quot;' : '&apos;',
  );
}
