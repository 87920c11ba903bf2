/**
 * The "public Internet" of nat-punch.test.ts: run inside the public network namespace as
 *   node --import tsx test/integration/nat-public-net.ts <host> <count>
 * it starts `count` DhtNodes on host (any port; they share the IP, as testnet nodes do), each bootstrapping from
 * the first, prints {"event":"ready","ports":[…]} once they know each other, and runs until SIGTERM. These are
 * dhtchat nodes, so they answer the introducer extension: the NAT'd daemons pick their introducers among them.
 */
import { DhtNode } from '../../src/dht/index.ts';
import { cryptoRandom, systemClock, UdpTransport } from '../../src/runtime/index.ts';

const host = process.argv[2] ?? '10.200.0.1';
const count = Number(process.argv[3] ?? '8');
const nodes: DhtNode[] = [];
const transports: UdpTransport[] = [];
for (let i = 0; i < count; i++) {
  const transport = await UdpTransport.bind({ host, port: 0 });
  transports.push(transport);
  const first = transports[0]!.localAddress();
  nodes.push(
    new DhtNode({
      transport,
      clock: systemClock,
      random: cryptoRandom,
      allowPrivate: true,
      bootstrap: i === 0 ? [] : [first],
    }),
  );
}
// The first node has nobody to ask; the others join through it, then it learns them from their queries.
await Promise.all(nodes.slice(1).map((n) => n.start()));
await nodes[0]!.start();
process.stdout.write(
  `${JSON.stringify({ event: 'ready', ports: transports.map((t) => t.localAddress().port) })}\n`,
);
const stop = (): void => {
  for (const n of nodes) n.close();
  for (const t of transports) t.close();
  process.exit(0);
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
setInterval(() => {
  const notes = nodes.reduce((sum, n) => sum + n.stats().notes.forwarded, 0);
  process.stdout.write(`${JSON.stringify({ event: 'stats', forwarded: notes })}\n`);
}, 5000);
