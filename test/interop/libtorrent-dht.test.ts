/**
 * Interop with libtorrent 2.0.x (Debian python3-libtorrent) on loopback: one network of 2 libtorrent nodes and
 * 10 dhtchat nodes. (a) each side finds the other's announce through get_peers; (b) mutable items with and
 * without salt both ways; (c) immutable items both ways; (d) items as big as BEP 44 allows both ways. Skips only
 * when libtorrent cannot be imported.
 *
 *   lt1 ─┐                      ┌─ dhtchat ×10 (one process, real UDP on 127.0.0.1, --allow-private)
 *   lt2 ─┴── add_dht_node(all) ─┤
 *                               └─ each dhtchat node pings lt1 and lt2 (so they sit in its routing table)
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { ed25519FromSeed } from '../../src/crypto/index.ts';
import { immutableTarget, mutableTarget } from '../../src/dht/index.ts';
import { formatAddress, type UdpAddress } from '../../src/runtime/index.ts';
import { encodeBencode } from '../../src/wire/index.ts';
import { LibtorrentNode } from '../helpers/libtorrent-driver.ts';
import { createTestnet, type Testnet } from '../helpers/testnet.ts';

const LOOKUP_TIMEOUT_MS = 15_000;

let skipReason: string | undefined;
let lt1: LibtorrentNode;
let lt2: LibtorrentNode;
let net: Testnet;

before(async () => {
  const launched = await Promise.all([LibtorrentNode.launch(), LibtorrentNode.launch()]);
  for (const l of launched) if ('skip' in l) skipReason = l.skip;
  if (skipReason !== undefined) return;
  lt1 = (launched[0] as { node: LibtorrentNode }).node;
  lt2 = (launched[1] as { node: LibtorrentNode }).node;
  await Promise.all([lt1.start(), lt2.start()]);
  net = await createTestnet({ size: 10 });
  const ltAddresses: UdpAddress[] = [lt1, lt2].map((l) => ({ host: '127.0.0.1', port: l.port }));
  for (const lt of [lt1, lt2]) {
    for (const n of net.nodes) await lt.call('add_node', { host: n.address.host, port: n.address.port });
    const other = lt === lt1 ? lt2 : lt1;
    await lt.call('add_node', { host: '127.0.0.1', port: other.port });
  }
  // A node that answers our ping enters our routing table: now every dhtchat node knows both libtorrent nodes.
  await Promise.all(net.nodes.flatMap((n) => ltAddresses.map((a) => n.node.ping(a).catch(() => undefined))));
  // libtorrent adds a node once it answered libtorrent's own ping: wait for its table to fill.
  for (const lt of [lt1, lt2]) {
    const nodes = await eventually(async () => {
      const n = (await lt.call('status'))['nodes'] as number;
      return n >= 5 ? n : undefined;
    }, 20_000);
    assert.ok(nodes !== undefined, `libtorrent routing table stayed small; alerts: ${await alertsOf(lt)}`);
  }
});

after(async () => {
  lt1?.close();
  lt2?.close();
  await net?.close();
});

/** Repeats fn until it returns a value or the time is up (lookups race with stores still in flight). */
async function eventually<T>(
  fn: () => Promise<T | undefined>,
  timeoutMs = LOOKUP_TIMEOUT_MS,
): Promise<T | undefined> {
  const endMs = Date.now() + timeoutMs;
  for (;;) {
    const value = await fn();
    if (value !== undefined || Date.now() > endMs) return value;
    await new Promise((r) => setTimeout(r, 300));
  }
}

describe('interop with libtorrent', () => {
  test('(a) libtorrent announce is found by dhtchat get_peers', async (t) => {
    if (skipReason !== undefined) return t.skip(skipReason);
    const infoHash = Buffer.alloc(20, 0xa1);
    await lt1.call('add_torrent', { info_hash: infoHash.toString('hex') });
    await lt1.call('announce', { info_hash: infoHash.toString('hex') });
    const want = `127.0.0.1:${lt1.port}`;
    const found = await eventually(async () => {
      const { peers } = await net.nodes[4]!.node.getPeers(infoHash);
      return peers.map(formatAddress).includes(want) ? peers : undefined;
    });
    assert.ok(found !== undefined, `dhtchat did not find ${want}; lt alerts: ${await alertsOf(lt1)}`);
  });

  test('(a) dhtchat announce is found by libtorrent get_peers', async (t) => {
    if (skipReason !== undefined) return t.skip(skipReason);
    const infoHash = Buffer.alloc(20, 0xb2);
    const { stored } = await net.nodes[6]!.node.announcePeer(infoHash, { port: 5555 });
    assert.ok(stored >= 1);
    const reply = await lt2.call('get_peers', {
      info_hash: infoHash.toString('hex'),
      want: '127.0.0.1:5555',
      timeout_ms: LOOKUP_TIMEOUT_MS,
    });
    assert.ok((reply['peers'] as string[]).includes('127.0.0.1:5555'), JSON.stringify(reply));
  });

  for (const salt of ['', 'lt-salt']) {
    test(`(b) libtorrent mutable put${salt ? ' with salt' : ''} is read by dhtchat`, async (t) => {
      if (skipReason !== undefined) return t.skip(skipReason);
      const keyPair = ed25519FromSeed(Buffer.alloc(32, salt ? 0x11 : 0x12));
      const put = await lt1.call('put_mutable', {
        seed: keyPair.seed.toString('hex'),
        public_key: keyPair.publicKey.toString('hex'),
        value: `from libtorrent${salt}`,
        salt,
      });
      assert.ok((put['stored'] as number) >= 1, JSON.stringify(put));
      const saltBytes = salt ? Buffer.from(salt) : undefined;
      const target = mutableTarget(keyPair.publicKey, saltBytes);
      const item = await eventually(() =>
        net.nodes[8]!.node.get(target, saltBytes ? { salt: saltBytes } : {}),
      );
      assert.ok(item !== undefined, 'dhtchat found the item');
      assert.deepEqual(item.v, Buffer.from(`from libtorrent${salt}`));
      assert.equal(item.seq, put['seq']);
      assert.deepEqual(item.k, keyPair.publicKey);
    });

    test(`(b) dhtchat mutable put${salt ? ' with salt' : ''} is read by libtorrent`, async (t) => {
      if (skipReason !== undefined) return t.skip(skipReason);
      const keyPair = ed25519FromSeed(Buffer.alloc(32, salt ? 0x21 : 0x22));
      const put = await net.nodes[2]!.node.putMutable({
        keyPair,
        v: Buffer.from(`from dhtchat${salt}`),
        seq: 7,
        ...(salt ? { salt: Buffer.from(salt) } : {}),
      });
      assert.ok(put.stored >= 1);
      const got = await lt2.call('get_mutable', {
        public_key: keyPair.publicKey.toString('hex'),
        salt,
        min_seq: 7,
        timeout_ms: LOOKUP_TIMEOUT_MS,
      });
      assert.deepEqual(
        { found: got['found'], value: got['value'], seq: got['seq'] },
        {
          found: true,
          value: `from dhtchat${salt}`,
          seq: 7,
        },
      );
    });
  }

  // Issue 10 §6: items as big as BEP 44 allows (v of 1000 bytes, a 64-byte salt) are stored and served both ways.
  for (const encodedBytes of [930, 1000]) {
    const text = 'x'.repeat(encodedBytes - 4); // "996:" + 996 bytes = 1000 bytes bencoded
    const salt = 's'.repeat(64);

    test(`(d) dhtchat mutable put of v ${encodedBytes} bytes, 64-byte salt, is read by libtorrent`, async (t) => {
      if (skipReason !== undefined) return t.skip(skipReason);
      const keyPair = ed25519FromSeed(Buffer.alloc(32, encodedBytes & 0xff));
      const put = await net.nodes[5]!.node.putMutable({
        keyPair,
        v: Buffer.from(text),
        seq: 3,
        salt: Buffer.from(salt),
      });
      assert.ok(put.stored >= 1, `stored at ${put.stored} nodes`);
      const got = await lt2.call('get_mutable', {
        public_key: keyPair.publicKey.toString('hex'),
        salt,
        min_seq: 3,
        timeout_ms: LOOKUP_TIMEOUT_MS,
      });
      assert.deepEqual(
        { found: got['found'], value: got['value'], seq: got['seq'] },
        { found: true, value: text, seq: 3 },
      );
    });

    test(`(d) libtorrent mutable put of v ${encodedBytes} bytes, 64-byte salt, is read by dhtchat`, async (t) => {
      if (skipReason !== undefined) return t.skip(skipReason);
      const keyPair = ed25519FromSeed(Buffer.alloc(32, (encodedBytes + 1) & 0xff));
      const put = await lt1.call('put_mutable', {
        seed: keyPair.seed.toString('hex'),
        public_key: keyPair.publicKey.toString('hex'),
        value: text,
        salt,
      });
      assert.ok((put['stored'] as number) >= 1, JSON.stringify(put));
      const target = mutableTarget(keyPair.publicKey, Buffer.from(salt));
      const item = await eventually(() => net.nodes[7]!.node.get(target, { salt: Buffer.from(salt) }));
      assert.equal(item?.vBytes.length, encodedBytes);
      assert.deepEqual(item?.v, Buffer.from(text));
    });
  }

  test('(c) libtorrent immutable put is read by dhtchat', async (t) => {
    if (skipReason !== undefined) return t.skip(skipReason);
    const put = await lt1.call('put_immutable', { value: 'immutable from libtorrent' });
    const target = immutableTarget(encodeBencode(Buffer.from('immutable from libtorrent')));
    assert.equal(put['target'], target.toString('hex'), 'both sides compute the same target');
    assert.ok((put['stored'] as number) >= 1);
    const item = await eventually(() => net.nodes[9]!.node.get(target));
    assert.deepEqual(item?.v, Buffer.from('immutable from libtorrent'));
  });

  test('(c) dhtchat immutable put is read by libtorrent', async (t) => {
    if (skipReason !== undefined) return t.skip(skipReason);
    const put = await net.nodes[3]!.node.putImmutable(Buffer.from('immutable from dhtchat'));
    assert.ok(put.stored >= 1);
    const got = await lt2.call('get_immutable', {
      target: put.target.toString('hex'),
      timeout_ms: LOOKUP_TIMEOUT_MS,
    });
    assert.deepEqual(got['value'], 'immutable from dhtchat');
  });
});

async function alertsOf(lt: LibtorrentNode): Promise<string> {
  const reply = await lt.call('alerts');
  return JSON.stringify((reply['alerts'] as string[]).slice(-15));
}
