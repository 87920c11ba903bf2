/**
 * The one-shot dht commands end to end: `node bin/dhtchat.js dht ...` against a small loopback network of real
 * DhtNodes (test/helpers/testnet.ts), checking the exact output contracts and exit codes.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ed25519FromSeed } from '../../src/crypto/index.ts';
import { formatAddress } from '../../src/runtime/index.ts';
import { type CliResult, runCli } from '../helpers/cli-runner.ts';
import { createTestnet, type Testnet } from '../helpers/testnet.ts';

let net: Testnet;
let boot: string[];

before(async () => {
  net = await createTestnet({ size: 8 });
  boot = ['--bootstrap', formatAddress(net.bootstrap), '--allow-private'];
});
after(() => net.close());

function jsonOf(result: CliResult): Record<string, unknown> {
  assert.equal(result.code, 0, `exit code; stderr: ${result.stderr}`);
  assert.equal(result.stderr, '');
  const lines = result.stdout.trim().split('\n');
  assert.equal(lines.length, 1, `one JSON line, got: ${result.stdout}`);
  return JSON.parse(lines[0]!) as Record<string, unknown>;
}

function assertFailure(result: CliResult, pattern: RegExp): void {
  assert.equal(result.code, 1, `exit code; stderr: ${result.stderr}`);
  assert.equal(result.stdout, '');
  assert.match(result.stderr, /^error: [^\n]+\n$/);
  assert.match(result.stderr, pattern);
}

describe('dhtchat dht one-shot commands', () => {
  test('ping prints the id of the node that answered', async () => {
    const target = net.nodes[1]!;
    const out = jsonOf(await runCli(['dht', 'ping', formatAddress(target.address), '--json']));
    assert.equal(out['id'], target.node.id.toString('hex'));
    assert.equal(out['address'], formatAddress(target.address));
    assert.equal(typeof out['rttMs'], 'number');
    const human = await runCli(['dht', 'ping', formatAddress(target.address)]);
    assert.equal(human.code, 0);
    assert.match(human.stdout, new RegExp(target.node.id.toString('hex')));
  });

  test('ping of a silent port fails with one line and exit 1', async () => {
    assertFailure(await runCli(['dht', 'ping', '127.0.0.1:9', '--timeout', '10s']), /timed out|gave up/);
  });

  test('find-node returns the network nodes closest to the id', async () => {
    const target = net.nodes[5]!.node.id;
    const out = jsonOf(await runCli(['dht', 'find-node', target.toString('hex'), ...boot, '--json']));
    const nodes = out['nodes'] as Array<{ id: string; address: string }>;
    assert.ok(nodes.length >= 4, `found ${nodes.length}`);
    assert.equal(nodes[0]!.id, target.toString('hex'), 'the node with that id comes first');
    assert.equal(nodes[0]!.address, formatAddress(net.nodes[5]!.address));
  });

  test('announce then get-peers finds the announced port', async () => {
    const infoHash = 'c0ffee'.padEnd(40, '1');
    const announced = jsonOf(
      await runCli(['dht', 'announce', infoHash, '--port', '4321', ...boot, '--json']),
    );
    assert.ok((announced['stored'] as number) >= 1);
    const out = jsonOf(await runCli(['dht', 'get-peers', infoHash, ...boot, '--json']));
    assert.deepEqual(Object.keys(out), ['peers']);
    assert.ok((out['peers'] as string[]).includes('127.0.0.1:4321'), JSON.stringify(out));
    const human = await runCli(['dht', 'get-peers', infoHash, ...boot]);
    assert.match(human.stdout, /^127\.0\.0\.1:4321$/m);
  });

  test('put/get of an immutable item round-trips UTF-8', async () => {
    const put = jsonOf(await runCli(['dht', 'put', 'héllo wörld', ...boot, '--json']));
    assert.deepEqual(Object.keys(put).sort(), ['stored', 'target']);
    assert.match(put['target'] as string, /^[0-9a-f]{40}$/);
    assert.ok((put['stored'] as number) >= 1);
    const got = jsonOf(await runCli(['dht', 'get', put['target'] as string, ...boot, '--json']));
    assert.deepEqual(got, { v: 'héllo wörld' });
    // The item is readable in-process too, from a node that did not put it.
    const item = await net.nodes[7]!.node.get(Buffer.from(put['target'] as string, 'hex'));
    assert.deepEqual(item?.v, Buffer.from('héllo wörld'));
  });

  test('put/get of mutable items with and without salt, seed file in hex and raw', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dhtchat-cli-'));
    const seed = Buffer.alloc(32, 7);
    const hexFile = join(dir, 'seed.hex');
    const rawFile = join(dir, 'seed.raw');
    writeFileSync(hexFile, `${seed.toString('hex')}\n`);
    writeFileSync(rawFile, seed);
    const k = ed25519FromSeed(seed).publicKey.toString('hex');

    const plain = jsonOf(await runCli(['dht', 'put', 'first', '--seed-file', hexFile, ...boot, '--json']));
    const salted = jsonOf(
      await runCli([
        'dht',
        'put',
        'salty',
        '--seed-file',
        rawFile,
        '--salt',
        'sàlt',
        '--seq',
        '5',
        ...boot,
        '--json',
      ]),
    );
    assert.notEqual(plain['target'], salted['target']);

    const got = jsonOf(await runCli(['dht', 'get', plain['target'] as string, ...boot, '--json']));
    assert.deepEqual(got, { v: 'first', seq: 1, k });
    const gotSalted = jsonOf(
      await runCli(['dht', 'get', salted['target'] as string, '--salt', 'sàlt', ...boot, '--json']),
    );
    assert.deepEqual(gotSalted, { v: 'salty', seq: 5, k });
    // A lower seq is refused by every storing node (BEP 44 error 302): exit 1, and the line says why.
    const refused = await runCli([
      'dht',
      'put',
      'old',
      '--seed-file',
      rawFile,
      '--salt',
      'sàlt',
      '--seq',
      '3',
      ...boot,
    ]);
    assertFailure(refused, /302 seq lower than stored/);

    // A second put without --seq goes to the highest seen + 1.
    jsonOf(await runCli(['dht', 'put', 'second', '--seed-file', hexFile, ...boot, '--json']));
    const again = jsonOf(await runCli(['dht', 'get', plain['target'] as string, ...boot, '--json']));
    assert.deepEqual(again, { v: 'second', seq: 2, k });

    const human = await runCli(['dht', 'get', plain['target'] as string, ...boot]);
    assert.equal(human.code, 0);
    assert.equal(human.stdout.split('\n')[0], 'second');
  });

  test('get of a missing item exits 1 with one line', async () => {
    assertFailure(await runCli(['dht', 'get', 'ee'.repeat(20), ...boot]), /no item found/);
  });

  test('without --allow-private a loopback bootstrap is refused, with a hint', async () => {
    const r = await runCli([
      'dht',
      'get-peers',
      'ab'.repeat(20),
      '--bootstrap',
      formatAddress(net.bootstrap),
    ]);
    assertFailure(r, /--allow-private/);
  });
});
