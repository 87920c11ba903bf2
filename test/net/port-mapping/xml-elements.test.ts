import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import {
  childText,
  descendantsNamed,
  parseXml,
  XmlErrorCode,
} from '../../../src/net/port-mapping/xml-elements.ts';
import { MINIUPNPD_FAULT_606, MINIUPNPD_ROOT_DESCRIPTION } from './fixtures/miniupnpd-2.3.1.ts';

function rootOf(xml: string) {
  const parsed = parseXml(xml);
  assert.ok(parsed.ok, JSON.stringify(parsed));
  return parsed.root;
}

test("reads miniupnpd's device description: every service, by local name", () => {
  const root = rootOf(MINIUPNPD_ROOT_DESCRIPTION);
  assert.equal(root.name, 'root');
  const types = descendantsNamed(root, 'service').map((s) => childText(s, 'serviceType'));
  assert.deepEqual(types, [
    'urn:schemas-upnp-org:service:Layer3Forwarding:1',
    'urn:schemas-upnp-org:service:DeviceProtection:1',
    'urn:schemas-upnp-org:service:WANCommonInterfaceConfig:1',
    'urn:schemas-upnp-org:service:WANIPConnection:2',
    'urn:schemas-upnp-org:service:WANIPv6FirewallControl:1',
  ]);
});

test('namespace prefixes are dropped; attributes, comments, declarations and CDATA are handled', () => {
  const root = rootOf(
    '<?xml version="1.0" encoding="utf-8"?>\n<!-- a comment -->\n' +
      '<s:Envelope xmlns:s="x" s:encodingStyle=\'y\'><s:Body a = "1">' +
      '<Value>a &lt;b&gt; &amp; &quot;c&quot; &apos;d&apos; &#65;&#x42;</Value>' +
      '<Raw><![CDATA[<not a tag> & not an entity]]></Raw><Empty/><Spaced ></Spaced ></s:Body></s:Envelope>\n',
  );
  const body = root.children[0]!;
  assert.equal(root.name, 'Envelope');
  assert.equal(body.name, 'Body');
  assert.equal(childText(body, 'Value'), 'a <b> & "c" \'d\' AB');
  assert.equal(childText(body, 'Raw'), '<not a tag> & not an entity');
  assert.equal(childText(body, 'Empty'), '');
  assert.equal(childText(body, 'Spaced'), '');
});

test('a SOAP fault is an ordinary tree', () => {
  const root = rootOf(MINIUPNPD_FAULT_606);
  const error = descendantsNamed(root, 'UPnPError')[0]!;
  assert.equal(childText(error, 'errorCode'), '606');
});

test('refuses what a gateway never needs and an attacker likes', () => {
  const cases: Array<[string, string, string]> = [
    ['a DOCTYPE (entity expansion)', '<!DOCTYPE r [<!ENTITY a "b">]><r>&a;</r>', XmlErrorCode.doctype],
    ['an undeclared entity', '<r>&nbsp;</r>', XmlErrorCode.badEntity],
    ['an entity without ;', '<r>&amp</r>', XmlErrorCode.badEntity],
    ['a NUL character reference', '<r>&#0;</r>', XmlErrorCode.badEntity],
    ['a surrogate reference', '<r>&#xD800;</r>', XmlErrorCode.badEntity],
    ['a reference past Unicode', '<r>&#x110000;</r>', XmlErrorCode.badEntity],
    ['mismatched tags', '<a><b></a></b>', XmlErrorCode.mismatchedTag],
    ['an unclosed element', '<a><b></b>', XmlErrorCode.unterminated],
    ['an unterminated comment', '<a><!-- </a>', XmlErrorCode.unterminated],
    ['two roots', '<a/><b/>', XmlErrorCode.textOutsideRoot],
    ['text before the root', 'x<a/>', XmlErrorCode.textOutsideRoot],
    ['no root at all', '<?xml version="1.0"?>', XmlErrorCode.noRoot],
    ['a tag with junk', '<a b></a>', XmlErrorCode.badTag],
    ['an unquoted attribute', '<a b=c></a>', XmlErrorCode.badTag],
    ['a close tag for nothing', '</a>', XmlErrorCode.mismatchedTag],
  ];
  for (const [name, xml, code] of cases) {
    const result = parseXml(xml);
    assert.equal(result.ok ? 'parsed' : result.code, code, name);
  }
});

test('limits: size, depth and element count are bounded', () => {
  const limits = { maxChars: 100, maxDepth: 3, maxElements: 5 };
  assert.equal(parseXml(`<a>${'x'.repeat(100)}</a>`, limits).ok, false);
  assert.equal(parseXml('<a><b><c></c></b></a>', limits).ok, true);
  const deep = parseXml('<a><b><c><d></d></c></b></a>', limits);
  assert.equal(deep.ok ? '' : deep.code, XmlErrorCode.tooDeep);
  const many = parseXml('<a><b/><b/><b/><b/><b/></a>', limits);
  assert.equal(many.ok ? '' : many.code, XmlErrorCode.tooManyElements);
  const huge = parseXml('<a/>'.padEnd(70_000, ' '));
  assert.equal(huge.ok ? '' : huge.code, XmlErrorCode.tooLarge);
});

test('an entity named like an Object property is still refused (no prototype lookups)', () => {
  for (const name of ['constructor', 'toString', '__proto__']) {
    assert.equal(parseXml(`<r>&${name};</r>`).ok, false, name);
  }
});

test('fuzz: mutated descriptions and random text never throw', () => {
  const doc = MINIUPNPD_ROOT_DESCRIPTION;
  fc.assert(
    fc.property(
      fc.nat(doc.length - 1),
      fc.nat(doc.length),
      fc.string({ maxLength: 8 }),
      (at, cut, insert) => {
        parseXml(doc.slice(0, at) + insert + doc.slice(Math.min(doc.length, at + (cut % 8))));
      },
    ),
    { numRuns: 1500 },
  );
  fc.assert(
    fc.property(
      fc.string({
        maxLength: 300,
        unit: fc.constantFrom('<', '>', '/', '!', '?', '&', ';', 'a', ' ', '"', '=', '[', ']', '-', '#', 'x'),
      }),
      (text) => {
        parseXml(text);
      },
    ),
    { numRuns: 3000 },
  );
});
