import assert from 'node:assert/strict';
import { test } from 'node:test';
import { localAddressTowards, parseDefaultRoutes } from '../../src/app/default-gateway.ts';

const HEADER = 'Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT';

test('/proc/net/route: default routes via a gateway, lowest metric first (little-endian hex)', () => {
  const table = [
    HEADER,
    'wlan0\t00000000\t0101A8C0\t0003\t0\t0\t600\t00000000\t0\t0\t0',
    'eth0\t00000000\t014DA8C0\t0003\t0\t0\t100\t00000000\t0\t0\t0',
    'eth0\t004DA8C0\t00000000\t0001\t0\t0\t100\t00FFFFFF\t0\t0\t0',
    'tun0\t00000000\t00000000\t0001\t0\t0\t50\t00000000\t0\t0\t0',
    'down0\t00000000\t0100000A\t0002\t0\t0\t1\t00000000\t0\t0\t0',
    'junk line',
    'bad0\t00000000\tZZZZZZZZ\t0003\t0\t0\t1\t00000000\t0\t0\t0',
  ].join('\n');
  assert.deepEqual(parseDefaultRoutes(table, true), [
    { interfaceName: 'eth0', gateway: '192.168.77.1', metric: 100 },
    { interfaceName: 'wlan0', gateway: '192.168.1.1', metric: 600 },
  ]);
});

test('/proc/net/route on a big-endian machine reads the other way round', () => {
  const table = `${HEADER}\neth0\t00000000\tC0A80101\t0003\t0\t0\t0\t00000000\t0\t0\t0\n`;
  assert.deepEqual(parseDefaultRoutes(table, false), [
    { interfaceName: 'eth0', gateway: '192.168.1.1', metric: 0 },
  ]);
});

test('our address towards the gateway: the IPv4 one in its subnet, else the first', () => {
  const v4 = (address: string, netmask: string) =>
    ({ address, netmask, family: 'IPv4', mac: '', internal: false, cidr: null }) as const;
  const interfaces = {
    eth0: [
      {
        address: 'fe80::1',
        netmask: 'ffff:ffff:ffff:ffff::',
        family: 'IPv6',
        mac: '',
        internal: false,
        cidr: null,
        scopeid: 2,
      } as const,
      v4('10.9.0.5', '255.255.0.0'),
      v4('192.168.77.2', '255.255.255.0'),
    ],
    lo: [{ ...v4('127.0.0.1', '255.0.0.0'), internal: true }],
  };
  assert.equal(localAddressTowards('192.168.77.1', 'eth0', interfaces), '192.168.77.2');
  assert.equal(localAddressTowards('172.16.0.1', 'eth0', interfaces), '10.9.0.5');
  assert.equal(localAddressTowards('127.0.0.1', 'lo', interfaces), undefined, 'loopback is never it');
  assert.equal(localAddressTowards('192.168.77.1', 'wlan9', interfaces), undefined);
});
