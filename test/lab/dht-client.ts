/**
 * A dhtchat DHT node joining the lab's Internet from behind whatever NAT its host sits behind; run inside a host
 * namespace as
 *   node --import tsx test/lab/dht-client.ts <bootstrap host:port,…> <label>
 * It joins (allowPrivate: the lab's 198.18.0.0/15), waits until responders have voted on its external address
 * (BEP 42 `ip`) and it has re-keyed to an id valid for that address, pings every bootstrap contact and checks
 * their ids against their addresses, puts a BEP 44 mutable item (salt = label), and reads it back through a
 * second, read-only node (so the item is served by the Internet's nodes, never by the writer's own store). The
 * second node also looks up the first one's id: finding it shows the Internet's nodes took our re-keyed id into
 * their routing tables. Prints one JSON line:
 *   {"tableSize","externalAddress","isIdValid","contactsValid","contacts","stored","isFound","isSameValue",
 *    "isKnownToInternet","queriesIn","knownAs"}   (knownAs: under which of our ids the lookup found our address)
 *
 *   host (behind its NAT): writer node ──put──► libtorrent nodes 198.18.i.10 ◄──get── reader node (read-only)
 */
import { createHash } from 'node:crypto';
import { ed25519FromSeed } from '../../src/crypto/index.ts';
import { DhtNode, isNodeIdValidForHost, mutableTarget } from '../../src/dht/index.ts';
import { cryptoRandom, systemClock, type UdpAddress, UdpTransport } from '../../src/runtime/index.ts';

const VOTE_WAIT_MS = 20_000;

const bootstrap: UdpAddress[] = (process.argv[2] ?? '').split(',').map((entry) => {
  const colon = entry.lastIndexOf(':');
  return { host: entry.slice(0, colon), port: Number(entry.slice(colon + 1)) };
});
const label = process.argv[3] ?? 'lab';

const transport = await UdpTransport.bind({ host: '0.0.0.0', port: 0 });
const node = new DhtNode({
  transport,
  clock: systemClock,
  random: cryptoRandom,
  allowPrivate: true,
  bootstrap,
});
const readerTransport = await UdpTransport.bind({ host: '0.0.0.0', port: 0 });
const reader = new DhtNode({
  transport: readerTransport,
  clock: systemClock,
  random: cryptoRandom,
  allowPrivate: true,
  bootstrap,
  readOnly: true,
});
const initialId = Buffer.from(node.id);
try {
  await node.start();
  const endMs = Date.now() + VOTE_WAIT_MS;
  const isKeyed = (): boolean => {
    const external = node.externalAddress();
    return external !== undefined && isNodeIdValidForHost(node.id, external.host);
  };
  while (!isKeyed() && Date.now() < endMs) {
    await node.findNode(node.id).catch(() => []);
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  const external = node.externalAddress();
  const contacts = await Promise.all(
    bootstrap.map((a) =>
      node.ping(a).then(
        (r) => isNodeIdValidForHost(r.id, a.host),
        () => false,
      ),
    ),
  );
  const seed = createHash('sha256').update(`dhtchat lab ${label}`).digest();
  const keyPair = ed25519FromSeed(seed);
  const value = Buffer.from(`hello from behind ${label}`);
  const salt = Buffer.from(label);
  const put = await node.putMutable({ keyPair, v: value, seq: Date.now(), salt });
  await reader.start();
  const item = await reader.get(mutableTarget(keyPair.publicKey, salt), { salt });
  const closest = await reader.findNode(node.id).catch(() => []);
  process.stdout.write(
    `${JSON.stringify({
      tableSize: node.routingTableSize(),
      externalAddress: external?.host ?? null,
      isIdValid: external !== undefined && isNodeIdValidForHost(node.id, external.host),
      contactsValid: contacts.filter(Boolean).length,
      contacts: contacts.length,
      stored: put.stored,
      isFound: item !== undefined,
      isSameValue: item !== undefined && Buffer.isBuffer(item.v) && item.v.equals(value),
      isKnownToInternet: closest.some((n) => n.id.equals(node.id)),
      queriesIn: node.stats().queriesIn,
      knownAs: closest
        .filter((n) => n.address.host === external?.host)
        .map((n) => (n.id.equals(node.id) ? 'new' : n.id.equals(initialId) ? 'initial' : 'other')),
    })}\n`,
  );
} finally {
  node.close();
  transport.close();
  reader.close();
  readerTransport.close();
}
