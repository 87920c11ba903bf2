/**
 * The dhtchat introducer extension against other DHT implementations on loopback: libtorrent (Debian's
 * python3-libtorrent) and the npm `bittorrent-dht` package do not know `dhtchat_forward`: libtorrent refuses it
 * (203), bittorrent-dht stays silent; neither forwards anything, so neither ever becomes an introducer.
 */
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import DHT from 'bittorrent-dht';
import { DhtNode, KrpcRemoteError } from '../../src/dht/index.ts';
import { cryptoRandom, systemClock, type UdpAddress, UdpTransport } from '../../src/runtime/index.ts';
import { LibtorrentNode } from '../helpers/libtorrent-driver.ts';

interface BtDht {
  listen(port: number, host: string, cb: () => void): void;
  address(): { port: number };
  destroy(cb?: () => void): void;
}
const DhtClass = DHT as unknown as new (opts: Record<string, unknown>) => BtDht;

async function ourNode(): Promise<{ node: DhtNode; address: UdpAddress; notes: Buffer[]; close(): void }> {
  const transport = await UdpTransport.bind({ host: '127.0.0.1', port: 0 });
  const node = new DhtNode({
    transport,
    clock: systemClock,
    random: cryptoRandom,
    allowPrivate: true,
    queryTimeoutMs: 1500,
    queryRetries: 0,
  });
  const notes: Buffer[] = [];
  node.onNote((n) => notes.push(n.note));
  const close = (): void => {
    node.close();
    transport.close();
  };
  return { node, address: transport.localAddress(), notes, close };
}

/** The refusal: a KRPC error code, or 'timeout' when the node stays silent. */
async function forwardOutcome(
  node: DhtNode,
  introducer: UdpAddress,
  to: UdpAddress,
): Promise<number | string> {
  try {
    await node.forwardNote(introducer, to, Buffer.from('note'));
    return 'forwarded';
  } catch (error) {
    return error instanceof KrpcRemoteError ? error.krpcCode : 'timeout';
  }
}

describe('dhtchat_forward to other DHT implementations', () => {
  const cleanups: Array<() => void> = [];
  after(() => {
    for (const c of cleanups) c();
  });

  test('libtorrent refuses it (203: it reads an unknown query as find_node without a target)', async (t) => {
    const launched = await LibtorrentNode.launch();
    if ('skip' in launched) {
      t.skip(launched.skip);
      return;
    }
    const lt = launched.node;
    cleanups.push(() => lt.close());
    const port = await lt.start();
    const us = await ourNode();
    cleanups.push(() => us.close());
    const ltAddress = { host: '127.0.0.1', port };
    await us.node.ping(ltAddress);
    assert.equal(await forwardOutcome(us.node, ltAddress, us.address), 203);
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(us.notes.length, 0);
  });

  test('bittorrent-dht ignores it (no answer) and forwards nothing', async () => {
    const bt = new DhtClass({ bootstrap: false, host: '127.0.0.1' });
    cleanups.push(() => bt.destroy());
    await new Promise<void>((resolve) => bt.listen(0, '127.0.0.1', resolve));
    const us = await ourNode();
    cleanups.push(() => us.close());
    const btAddress = { host: '127.0.0.1', port: bt.address().port };
    await us.node.ping(btAddress);
    const outcome = await forwardOutcome(us.node, btAddress, us.address);
    assert.ok(outcome === 204 || outcome === 'timeout' || outcome === 203, String(outcome));
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(us.notes.length, 0);
    console.log(`# bittorrent-dht answered dhtchat_forward with: ${String(outcome)}`);
  });
});
