/** SSDP search answers, IGD device descriptions and SOAP actions: what the UPnP client writes and reads. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { findWanConnectionService } from '../../../src/net/port-mapping/igd-description.ts';
import { decodeSoapResponse, encodeSoapAction } from '../../../src/net/port-mapping/igd-soap.ts';
import { parseXml } from '../../../src/net/port-mapping/xml-elements.ts';
import {
  decodeSearchResponse,
  encodeMSearch,
  SsdpDecodeError,
} from '../../../src/net/port-mapping/ssdp-message.ts';
import {
  MINIUPNPD_ADD_ANY_PORT_MAPPING_RESPONSE,
  MINIUPNPD_FAULT_606,
  MINIUPNPD_GET_EXTERNAL_IP_RESPONSE,
  MINIUPNPD_ROOT_DESCRIPTION,
  MINIUPNPD_SEARCH_RESPONSE,
} from './fixtures/miniupnpd-2.3.1.ts';

const WAN_IP_1 = 'urn:schemas-upnp-org:service:WANIPConnection:1';

test('M-SEARCH: the UDA 1.1 headers, CRLF-terminated', () => {
  assert.equal(
    encodeMSearch().toString('latin1'),
    'M-SEARCH * HTTP/1.1\r\nHOST: 239.255.255.250:1900\r\nMAN: "ssdp:discover"\r\nMX: 1\r\n' +
      'ST: urn:schemas-upnp-org:device:InternetGatewayDevice:1\r\n\r\n',
  );
});

test("miniupnpd's search answer gives its LOCATION", () => {
  assert.deepEqual(decodeSearchResponse(Buffer.from(MINIUPNPD_SEARCH_RESPONSE, 'latin1')), {
    ok: true,
    response: {
      location: 'http://192.168.77.1:41325/rootDesc.xml',
      searchTarget: 'urn:schemas-upnp-org:device:InternetGatewayDevice:1',
    },
  });
});

test('search answers: LF line ends and lower-case names are read; the rest is refused', () => {
  const lf = decodeSearchResponse(Buffer.from('HTTP/1.1 200 OK\nlocation: http://10.0.0.1/d.xml\n\n'));
  assert.ok(lf.ok && lf.response.location === 'http://10.0.0.1/d.xml');
  const cases: Array<[string, string, string]> = [
    ['a NOTIFY, not an answer', 'NOTIFY * HTTP/1.1\r\nLOCATION: http://x/\r\n\r\n', SsdpDecodeError.status],
    ['404', 'HTTP/1.1 404 Not Found\r\nLOCATION: http://x/\r\n\r\n', SsdpDecodeError.status],
    ['no LOCATION', 'HTTP/1.1 200 OK\r\nST: x\r\n\r\n', SsdpDecodeError.location],
    ['LOCATION twice', 'HTTP/1.1 200 OK\r\nLOCATION: a\r\nLocation: b\r\n\r\n', SsdpDecodeError.header],
    ['a header without a colon', 'HTTP/1.1 200 OK\r\nLOCATION http://x/\r\n\r\n', SsdpDecodeError.header],
    [
      'a huge LOCATION',
      `HTTP/1.1 200 OK\r\nLOCATION: http://x/${'a'.repeat(600)}\r\n\r\n`,
      SsdpDecodeError.location,
    ],
    [
      '33 headers',
      `HTTP/1.1 200 OK\r\n${Array.from({ length: 33 }, (_, i) => `X${i}: 1\r\n`).join('')}`,
      SsdpDecodeError.header,
    ],
  ];
  for (const [name, text, code] of cases) {
    assert.deepEqual(decodeSearchResponse(Buffer.from(text, 'latin1')), { ok: false, code }, name);
  }
  assert.deepEqual(decodeSearchResponse(Buffer.alloc(2049, 0x41)), { ok: false, code: SsdpDecodeError.size });
});

test('fuzz: search answers never throw', () => {
  const good = Buffer.from(MINIUPNPD_SEARCH_RESPONSE, 'latin1');
  fc.assert(
    fc.property(fc.nat(good.length - 1), fc.integer({ min: 0, max: 255 }), (at, value) => {
      const mutated = Buffer.from(good);
      mutated[at] = value;
      decodeSearchResponse(mutated);
    }),
    { numRuns: 1000 },
  );
  fc.assert(fc.property(fc.uint8Array({ maxLength: 2100 }), (bytes) => void decodeSearchResponse(bytes)));
});

test("miniupnpd's description: WANIPConnection:2 at /ctl/IPConn on the gateway", () => {
  const result = findWanConnectionService(
    MINIUPNPD_ROOT_DESCRIPTION,
    new URL('http://192.168.77.1:41325/rootDesc.xml'),
  );
  assert.ok(result.ok);
  assert.equal(result.service.serviceType, 'urn:schemas-upnp-org:service:WANIPConnection:2');
  assert.equal(result.service.controlUrl.href, 'http://192.168.77.1:41325/ctl/IPConn');
  assert.equal(result.service.isVersion2, true);
});

function description(services: string, urlBase = ''): string {
  return `<?xml version="1.0"?><root>${urlBase}<device><deviceList><device><serviceList>${services}</serviceList></device></deviceList></device></root>`;
}
const service = (type: string, control: string): string =>
  `<service><serviceType>${type}</serviceType><controlURL>${control}</controlURL></service>`;

test('descriptions: v1 services, URLBase, preference order, and control URLs off the gateway', () => {
  const at = new URL('http://10.0.0.1:5000/desc.xml');
  const v1 = findWanConnectionService(description(service(WAN_IP_1, '/ctl/ip')), at);
  assert.ok(v1.ok && v1.service.controlUrl.href === 'http://10.0.0.1:5000/ctl/ip' && !v1.service.isVersion2);
  const ppp = 'urn:schemas-upnp-org:service:WANPPPConnection:1';
  const both = findWanConnectionService(description(service(ppp, '/ppp') + service(WAN_IP_1, '/ip')), at);
  assert.ok(both.ok && both.service.serviceType === WAN_IP_1);
  const based = findWanConnectionService(
    description(service(WAN_IP_1, 'ctl'), '<URLBase>http://10.0.0.1:6000/base/</URLBase>'),
    at,
  );
  assert.ok(based.ok && based.service.controlUrl.href === 'http://10.0.0.1:6000/base/ctl');
  const cases: Array<[string, string, string]> = [
    ['another host', description(service(WAN_IP_1, 'http://10.0.0.9/ctl')), 'foreign-control-url'],
    ['https', description(service(WAN_IP_1, 'https://10.0.0.1/ctl')), 'foreign-control-url'],
    [
      'a URLBase elsewhere',
      description(service(WAN_IP_1, '/c'), '<URLBase>http://evil/</URLBase>'),
      'foreign-control-url',
    ],
    [
      'no WAN connection',
      description(service('urn:schemas-upnp-org:service:Layer3Forwarding:1', '/l3')),
      'no-wan-connection',
    ],
    ['not XML', '<root>', 'malformed'],
  ];
  for (const [name, xml, reason] of cases) {
    const result = findWanConnectionService(xml, at);
    assert.equal(result.ok ? 'found' : result.reason, reason, name);
  }
});

test('SOAP requests: the envelope, the SOAPAction header, escaped arguments', () => {
  const request = encodeSoapAction(WAN_IP_1, 'AddPortMapping', [
    ['NewExternalPort', 4000],
    ['NewPortMappingDescription', '<&"\'>'],
  ]);
  assert.equal(request.headers['SOAPAction'], `"${WAN_IP_1}#AddPortMapping"`);
  assert.match(request.body, /<u:AddPortMapping xmlns:u="urn:schemas-upnp-org:service:WANIPConnection:1">/);
  assert.match(request.body, /<NewExternalPort>4000<\/NewExternalPort>/);
  assert.match(
    request.body,
    /<NewPortMappingDescription>&lt;&amp;&quot;&apos;&gt;<\/NewPortMappingDescription>/,
  );
  const parsed = parseXml(request.body);
  assert.ok(parsed.ok, 'our own envelope is well-formed');
});

test("SOAP answers: miniupnpd's out-arguments and its fault code", () => {
  const address = decodeSoapResponse(200, MINIUPNPD_GET_EXTERNAL_IP_RESPONSE, 'GetExternalIPAddress');
  assert.ok(address.ok && address.values.get('NewExternalIPAddress') === '198.18.0.2');
  const reserved = decodeSoapResponse(200, MINIUPNPD_ADD_ANY_PORT_MAPPING_RESPONSE, 'AddAnyPortMapping');
  assert.ok(reserved.ok && reserved.values.get('NewReservedPort') === '40005');
  const fault = decodeSoapResponse(500, MINIUPNPD_FAULT_606, 'AddPortMapping');
  assert.ok(!fault.ok && fault.upnpErrorCode === 606);
  assert.match(fault.detail, /Action not authorized/);
  const wrongAction = decodeSoapResponse(200, MINIUPNPD_GET_EXTERNAL_IP_RESPONSE, 'AddPortMapping');
  assert.ok(!wrongAction.ok && wrongAction.upnpErrorCode === undefined);
  const notXml = decodeSoapResponse(500, 'Internal error', 'AddPortMapping');
  assert.ok(!notXml.ok && notXml.upnpErrorCode === undefined);
});
