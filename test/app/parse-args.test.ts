import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { InvalidArgumentError } from 'commander';
import {
  parseDurationMs,
  parseHex,
  parseHostPort,
  parseHostPortList,
  parseId20,
  parseNonNegativeInt,
  parsePort,
  dnsFailureText,
  resolveHostPorts,
} from '../../src/app/parse-args.ts';

describe('parseHostPort', () => {
  test('IPv4, IPv6 in brackets and DNS names', () => {
    assert.deepEqual(parseHostPort('127.0.0.1:6881'), { host: '127.0.0.1', port: 6881 });
    assert.deepEqual(parseHostPort('[::1]:25401'), { host: '::1', port: 25401 });
    assert.deepEqual(parseHostPort('[2001:DB8::1]:1'), { host: '2001:db8::1', port: 1 });
    assert.deepEqual(parseHostPort('Router.BitTorrent.com:6881'), {
      host: 'router.bittorrent.com',
      port: 6881,
    });
  });

  test('rejects malformed input with InvalidArgumentError', () => {
    for (const bad of [
      '',
      '1.2.3.4',
      ':6881',
      '1.2.3.4:',
      '1.2.3.4:0',
      '1.2.3.4:65536',
      '1.2.3.4:-1',
      '1.2.3.4:12a',
      '::1:6881',
      '[1.2.3.4]:6881',
      '[::1]6881',
      'bad_host:1',
      'a..b:1',
    ]) {
      assert.throws(() => parseHostPort(bad), InvalidArgumentError, bad);
    }
  });

  test('lists split on commas and need one entry', () => {
    assert.deepEqual(parseHostPortList('127.0.0.1:1, [::1]:2,'), [
      { host: '127.0.0.1', port: 1 },
      { host: '::1', port: 2 },
    ]);
    assert.throws(() => parseHostPortList(' , '), InvalidArgumentError);
    assert.throws(() => parseHostPortList('127.0.0.1:1,nope'), InvalidArgumentError);
  });
});

describe('numbers, ids and durations', () => {
  test('ports', () => {
    assert.equal(parsePort('6881'), 6881);
    assert.equal(parsePort('0', true), 0);
    assert.throws(() => parsePort('0'), InvalidArgumentError);
    assert.throws(() => parsePort('1e3'), InvalidArgumentError);
  });

  test('hex ids are exactly 20 bytes', () => {
    const hex = 'aB'.repeat(20);
    assert.deepEqual(parseId20(hex), Buffer.from(hex, 'hex'));
    assert.throws(() => parseId20('ab'.repeat(19)), InvalidArgumentError);
    assert.throws(() => parseId20(`${'ab'.repeat(19)}zz`), InvalidArgumentError);
    assert.equal(parseHex('00ff', 2).length, 2);
  });

  test('non-negative integers', () => {
    assert.equal(parseNonNegativeInt('0'), 0);
    assert.equal(parseNonNegativeInt('42'), 42);
    for (const bad of ['-1', '1.5', 'x', '99999999999999999999']) {
      assert.throws(() => parseNonNegativeInt(bad), InvalidArgumentError, bad);
    }
  });

  test('durations with units', () => {
    assert.equal(parseDurationMs('250ms'), 250);
    assert.equal(parseDurationMs('1500'), 1500);
    assert.equal(parseDurationMs('30s'), 30_000);
    assert.equal(parseDurationMs('1.5s'), 1_500);
    assert.equal(parseDurationMs('15m'), 900_000);
    assert.equal(parseDurationMs('2h'), 7_200_000);
    assert.equal(parseDurationMs('1d'), 86_400_000);
    for (const bad of ['', 's', '-1s', '5x', '1 h'])
      assert.throws(() => parseDurationMs(bad), InvalidArgumentError);
  });
});

describe('resolveHostPorts', () => {
  test('IP literals pass through; unresolvable names are skipped, none at all is an error', async () => {
    const skipped: string[] = [];
    const out = await resolveHostPorts(
      [
        { host: '127.0.0.1', port: 1 },
        { host: 'does-not-exist.invalid', port: 2 },
      ],
      (entry) => skipped.push(entry.host),
    );
    assert.deepEqual(out, [{ host: '127.0.0.1', port: 1 }]);
    assert.deepEqual(skipped, ['does-not-exist.invalid']);
    await assert.rejects(resolveHostPorts([{ host: 'nothing.invalid', port: 2 }]), {
      code: 'APP_NO_ADDRESS',
      message: 'nothing.invalid: name not found (a typo, or no network?)',
    });
  });

  test('the error names every host, grouped by why it failed', async () => {
    await assert.rejects(
      resolveHostPorts([
        { host: 'one.invalid', port: 1 },
        { host: 'two.invalid', port: 2 },
      ]),
      {
        code: 'APP_NO_ADDRESS',
        message: 'one.invalid, two.invalid: name not found (a typo, or no network?)',
      },
    );
  });

  test('dnsFailureText: resolver codes in words', () => {
    const failure = (code: string) => Object.assign(new Error(`getaddrinfo ${code} x`), { code });
    assert.equal(dnsFailureText(failure('ENOTFOUND')), 'name not found (a typo, or no network?)');
    assert.equal(dnsFailureText(failure('EAI_AGAIN')), 'DNS did not answer (no network?)');
    assert.equal(dnsFailureText(failure('EFOO')), 'DNS lookup failed (EFOO)');
    assert.equal(dnsFailureText('odd'), 'odd');
  });

  test('localhost resolves through node:dns', async () => {
    const out = await resolveHostPorts([{ host: 'localhost', port: 7 }]);
    assert.ok(out.length >= 1);
    assert.ok(out.every((a) => a.port === 7 && (a.host === '127.0.0.1' || a.host === '::1')));
  });
});
