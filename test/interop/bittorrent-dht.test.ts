/**
 * Interop with the npm `bittorrent-dht` package (v11: IPv4 only, no BEP 42, caller-supplied ed25519 verify) on
 * loopback: 3 bittorrent-dht nodes and 8 dhtchat nodes in one network. get_peers/announce and BEP 44 items
 * (immutable, mutable with and without salt) both ways.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import DHT from 'bittorrent-dht';
import { ed25519FromSeed, ed25519Sign, ed25519Verify } from '../../src/crypto/index.ts';
import { immutableTarget, mutableTarget } from '../../src/dht/index.ts';
import { formatAddress } from '../../src/runtime/index.ts';
import { encodeBencode } from '../../src/wire/index.ts';
import { createTestnet, type Testnet } from '../helpers/testnet.ts';

interface GetResult {
  v: Buffer;
  seq?: number;
  k?: Buffer;
}
// The package ships no types; this is the part the test uses.
interface BtDht {
  listen(port: number, host: string, cb: () => void): void;
  address(): { port: number };
  addNode(node: { host: string; port: number }): void;
  announce(infoHash: Buffer, port: number, cb: (err: Error | null) => void): void;
  lookup(infoHash: Buffer, cb: (err: Error | null) => void): void;
  on(event: 'peer', fn: (peer: { host: string; port: number }, infoHash: Buffer) => void): void;
  put(opts: Record<string, unknown>, cb: (err: Error | null, hash: Buffer, n: number) => void): void;
  get(
    key: Buffer,
    opts: Record<string, unknown>,
    cb: (err: Error | null, res: GetResult | null) => void,
  ): void;
  destroy(cb?: () => void): void;
}
const DhtClass = DHT as unknown as new (opts: Record<string, unknown>) => BtDht;

/** bittorrent-dht's verify(signature, message, publicKey) on top of ours. */
const verify = (sig: Buffer, msg: Buffer, pk: Buffer): boolean => ed25519Verify(pk, msg, sig);

let net: Testnet;
const bt: BtDht[] = [];

before(async () => {
  net = await createTestnet({ size: 8 });
  for (let i = 0; i < 3; i++) {
    const d = new DhtClass({ bootstrap: [formatAddress(net.bootstrap)], verify, host: false });
    await new Promise<void>((r) => d.listen(0, '127.0.0.1', r));
    bt.push(d);
  }
  for (const d of bt) for (const n of net.nodes) d.addNode({ host: n.address.host, port: n.address.port });
  const btAddresses = bt.map((d) => ({ host: '127.0.0.1', port: d.address().port }));
  await Promise.all(net.nodes.flatMap((n) => btAddresses.map((a) => n.node.ping(a).catch(() => undefined))));
});

after(async () => {
  await Promise.all(bt.map((d) => new Promise<void>((r) => d.destroy(() => r()))));
  await net.close();
});

function btLookup(d: BtDht, infoHash: Buffer): Promise<string[]> {
  const peers = new Set<string>();
  d.on('peer', (peer, hash) => {
    if (hash.equals(infoHash)) peers.add(`${peer.host}:${peer.port}`);
  });
  return new Promise((res, rej) => d.lookup(infoHash, (err) => (err ? rej(err) : res([...peers]))));
}

function btGet(d: BtDht, key: Buffer, opts: Record<string, unknown> = {}): Promise<GetResult | null> {
  return new Promise((res, rej) =>
    d.get(key, { cache: false, ...opts }, (err, r) => (err ? rej(err) : res(r))),
  );
}

function btPut(d: BtDht, opts: Record<string, unknown>): Promise<{ hash: Buffer; n: number }> {
  return new Promise((res, rej) => d.put(opts, (err, hash, n) => (err ? rej(err) : res({ hash, n }))));
}

describe('interop with npm bittorrent-dht', () => {
  test('bittorrent-dht announce is found by dhtchat get_peers', async () => {
    const infoHash = Buffer.alloc(20, 0x31);
    await new Promise<void>((res, rej) => bt[0]!.announce(infoHash, 6001, (err) => (err ? rej(err) : res())));
    const { peers } = await net.nodes[5]!.node.getPeers(infoHash);
    assert.ok(peers.map(formatAddress).includes('127.0.0.1:6001'), JSON.stringify(peers));
  });

  test('dhtchat announce is found by bittorrent-dht lookup', async () => {
    const infoHash = Buffer.alloc(20, 0x32);
    assert.ok((await net.nodes[2]!.node.announcePeer(infoHash, { port: 6002 })).stored >= 1);
    assert.ok((await btLookup(bt[1]!, infoHash)).includes('127.0.0.1:6002'));
  });

  test('immutable items both ways', async () => {
    const fromBt = await btPut(bt[2]!, { v: Buffer.from('immutable from bittorrent-dht') });
    assert.ok(
      fromBt.hash.equals(immutableTarget(encodeBencode(Buffer.from('immutable from bittorrent-dht')))),
    );
    const item = await net.nodes[6]!.node.get(fromBt.hash);
    assert.deepEqual(item?.v, Buffer.from('immutable from bittorrent-dht'));

    const fromUs = await net.nodes[1]!.node.putImmutable(Buffer.from('immutable from dhtchat'));
    assert.ok(fromUs.stored >= 1);
    const got = await btGet(bt[0]!, fromUs.target);
    assert.deepEqual(got?.v, Buffer.from('immutable from dhtchat'));
  });

  for (const salt of [undefined, Buffer.from('bt-salt')]) {
    const label = salt ? 'with salt' : 'without salt';
    test(`mutable items ${label} both ways`, async () => {
      const btKeys = ed25519FromSeed(Buffer.alloc(32, salt ? 0x41 : 0x42));
      const fromBt = await btPut(bt[1]!, {
        k: btKeys.publicKey,
        seq: 3,
        v: Buffer.from(`mutable from bittorrent-dht ${label}`),
        sign: (buf: Buffer) => ed25519Sign(btKeys, buf),
        ...(salt ? { salt } : {}),
      });
      assert.ok(fromBt.hash.equals(mutableTarget(btKeys.publicKey, salt)));
      const item = await net.nodes[7]!.node.get(fromBt.hash, salt ? { salt } : {});
      assert.deepEqual(item?.v, Buffer.from(`mutable from bittorrent-dht ${label}`));
      assert.equal(item?.seq, 3);

      const ourKeys = ed25519FromSeed(Buffer.alloc(32, salt ? 0x51 : 0x52));
      const fromUs = await net.nodes[3]!.node.putMutable({
        keyPair: ourKeys,
        v: Buffer.from(`mutable from dhtchat ${label}`),
        ...(salt ? { salt } : {}),
      });
      assert.ok(fromUs.stored >= 1);
      const got = await btGet(bt[2]!, fromUs.target, salt ? { salt } : {});
      assert.deepEqual(got?.v, Buffer.from(`mutable from dhtchat ${label}`));
      assert.equal(got?.seq, fromUs.seq);
      assert.deepEqual(got?.k, ourKeys.publicKey);
    });
  }
});
